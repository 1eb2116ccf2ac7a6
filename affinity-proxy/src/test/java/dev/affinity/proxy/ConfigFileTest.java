package dev.affinity.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The YAML configuration file: every flag, command-line overrides, errors naming the line. */
class ConfigFileTest {
  @TempDir Path dir;

  private ProxyCommand parse(String... args) {
    ProxyCommand c = new ProxyCommand(Map.<String, String>of()::get);
    StringWriter sink = new StringWriter();
    CommandLine cl =
        AffinityProxy.commandLine(c, new PrintWriter(sink, true), new PrintWriter(sink, true));
    cl.parseArgs(AffinityProxy.withConfigFile(cl, c, args));
    return c;
  }

  private Path write(String yaml) throws Exception {
    Path f = dir.resolve("proxy.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  @Test
  void file_expressesTheFlags() throws Exception {
    Path f =
        write(
            "listen: 0.0.0.0:9443\n"
                + "backends:\n"
                + "  - {id: ws-1, uri: \"ws://10.0.0.1:9000\"}\n"
                + "  - id: ws-2\n"
                + "    uri: ws://10.0.0.2:9000\n"
                + "    weight: 2\n"
                + "    max-connections: 500\n"
                + "strategy: [cookie, source-ip]\n"
                + "trusted-proxy: [10.0.0.0/8, 192.168.0.0/16]\n"
                + "proxy-protocol: true\n"
                + "idle-timeout: 30m\n"
                + "server: jetty\n");
    ProxyCommand c = parse("--config", f.toString());
    assertThat(c.listen.getPort()).isEqualTo(9443);
    assertThat(c.backends)
        .map(Object::toString)
        .containsExactly(
            "Backend.of(\"ws-1\", \"10.0.0.1\", 9000)",
            "Backend.of(\"ws-2\", \"10.0.0.2\", 9000).withWeight(2).withMaxConnections(500)");
    assertThat(c.strategies).map(StrategySpec::toString).containsExactly("cookie", "source-ip");
    assertThat(c.trustedProxies).containsExactly("10.0.0.0/8", "192.168.0.0/16");
    assertThat(c.proxyProtocol).isTrue();
    assertThat(c.idleTimeout).hasMinutes(30);
    assertThat(c.server).isEqualTo(ServerKind.JETTY);
  }

  @Test
  void commandLineFlags_overrideTheFile_andRepeatedOnesReplaceItsList() throws Exception {
    Path f =
        write(
            "listen: 0.0.0.0:9443\n"
                + "backends:\n"
                + "  - {id: ws-1, uri: \"ws://10.0.0.1:9000\"}\n"
                + "idle-timeout: 30m\n");
    ProxyCommand c =
        parse(
            "--listen", "127.0.0.1:0",
            "--config", f.toString(),
            "--backend", "id=ws-9,uri=ws://10.0.0.9:9000");
    assertThat(c.listen.getPort()).isZero();
    assertThat(c.backends).map(b -> b.id()).containsExactly("ws-9");
    assertThat(c.idleTimeout).hasMinutes(30);
  }

  @Test
  void unknownKey_namesTheFileAndLine() throws Exception {
    Path f = write("listen: 0.0.0.0:9443\n\nlisten-port: 80\n");
    assertThatThrownBy(() -> parse("--config", f.toString()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            f
                + " line 3: listen-port: unknown key (expected: a flag name without its"
                + " dashes, see --help)");
  }

  @Test
  void badYaml_andBadShapes_nameTheLine() throws Exception {
    Path f = write("listen: 0.0.0.0:9443\nbackends: [\n  {id: ws-1\n");
    assertThatThrownBy(() -> parse("--config", f.toString()))
        .hasMessageStartingWith(f + " line ")
        .hasMessageContaining("not valid YAML");
    Path g = write("listen: 0.0.0.0:9443\nbackends:\n  - {id: ws-1, url: \"ws://h:1\"}\n");
    assertThatThrownBy(() -> parse("--config", g.toString()))
        .hasMessageStartingWith(g + " line 2: backends: unknown backend field 'url'");
    Path h = write("listen: {host: x}\n");
    assertThatThrownBy(() -> parse("--config", h.toString()))
        .hasMessageStartingWith(h + " line 1: listen: ")
        .hasMessageContaining("expected: a single value");
  }

  @Test
  void missingFile_namesItAndTheReason() {
    Path none = dir.resolve("none.yaml");
    assertThatThrownBy(() -> parse("--config", none.toString()))
        .hasMessage("cannot read " + none + ": no such file");
  }

  @Test
  void badValueInTheFile_isTheFlagsOwnError() throws Exception {
    Path f = write("idle-timeout: soon\n");
    assertThatThrownBy(() -> parse("--config", f.toString()))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--idle-timeout")
        .hasMessageContaining("soon");
  }
}

package dev.affinity.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.backend.BackendState;
import dev.affinity.testkit.Await;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code --health-check}: active checks through core's {@code HealthChecker}. */
class HealthCheckFlagTest {
  private final StringWriter out = new StringWriter();
  private final PrintWriter w = new PrintWriter(out, true);

  private ProxyCommand parse(String... args) {
    ProxyCommand c = new ProxyCommand(Map.<String, String>of()::get);
    AffinityProxy.commandLine(c, w, w).parseArgs(args);
    return c;
  }

  @Test
  void tcpHealthCheck_marksABackendThatRefusesConnectionsDown() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    try (ServerSocket up = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      ProxyCommand c =
          parse(
              "--listen", "127.0.0.1:0",
              "--backend", "id=gone,uri=ws://127.0.0.1:" + closedPort,
              "--backend", "id=up,uri=ws://127.0.0.1:" + up.getLocalPort(),
              "--health-check", "tcp",
              "--health-interval", "200ms",
              "--shutdown-timeout", "1s");
      try (ProxyCommand.Running running = c.start(w, w)) {
        Await.until(
            "the backend nothing listens for is DOWN",
            Duration.ofSeconds(30),
            () -> running.group().snapshot().member("gone").state() == BackendState.DOWN);
        assertThat(running.group().snapshot().member("up").state()).isEqualTo(BackendState.UP);
      }
    }
  }

  @Test
  void healthCheckValues_parse_andABadOneNamesTheFlag() {
    assertThat(parse().healthProbe()).isNull();
    assertThat(parse("--health-check", "tcp").healthProbe()).isNotNull();
    assertThat(parse("--health-check", "ws:/healthz").healthProbe()).isNotNull();
    assertThatThrownBy(() -> parse("--health-check", "http:/x").healthProbe())
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--health-check: 'http:/x' (expected: none, tcp or ws:PATH)");
  }
}

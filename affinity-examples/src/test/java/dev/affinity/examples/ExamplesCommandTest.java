package dev.affinity.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.proxy.AffinityProxy;
import dev.affinity.proxy.ProxyCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The examples jar's command line: the proxy's, plus the demo's flags. */
class ExamplesCommandTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private CommandLine commandLine() {
    return AffinityProxy.commandLine(
        new ProxyCommand(AffinityExamples.DEMO),
        new PrintWriter(out, true),
        new PrintWriter(err, true));
  }

  @Test
  void help_listsTheDemoFlags() {
    assertThat(commandLine().execute("--help")).isZero();
    assertThat(out.toString()).contains("--demo ", "--demo-page", "--backend", "--listen");
  }

  @Test
  void demoWithBackend_isRefusedNamingDemo() {
    int status = commandLine().execute("--demo", "--backend", "id=a,uri=ws://h:1");
    assertThat(status).isEqualTo(2);
    assertThat(err.toString()).contains("--demo starts its own backends");
  }
}

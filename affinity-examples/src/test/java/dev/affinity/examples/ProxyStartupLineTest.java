package dev.affinity.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The proxy's startup line names the I/O transport each adapter runs on. */
class ProxyStartupLineTest {

  private static boolean linuxX86_64() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    return os.startsWith("linux") && (arch.equals("amd64") || arch.equals("x86_64"));
  }

  @Test
  void start_netty_startupLineNamesTheNativeTransport() {
    try (DemoLauncher demo = DemoLauncher.start()) {
      String line =
          "affinity-proxy: netty proxy listening on ws://127.0.0.1:"
              + demo.proxyAddress().getPort()
              + "/ (transport ";
      assertThat(demo.output()).contains(line);
      if (linuxX86_64()) {
        assertThat(demo.output()).contains(line + "epoll)");
      }
    }
  }

  @Test
  void start_jetty_startupLineNamesNio() {
    try (DemoLauncher demo = DemoLauncher.start("--server", "jetty")) {
      assertThat(demo.output())
          .contains(
              "affinity-proxy: jetty proxy listening on ws://127.0.0.1:"
                  + demo.proxyAddress().getPort()
                  + "/ (transport nio)");
    }
  }
}

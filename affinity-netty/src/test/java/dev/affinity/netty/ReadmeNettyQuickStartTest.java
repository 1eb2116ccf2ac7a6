package dev.affinity.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.CookieAffinity;
import dev.affinity.strategy.CookieKey;
import dev.affinity.strategy.CookieKeys;
import dev.affinity.testkit.RawConnection;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The README's Netty quick start, compiled and run; {@link #readme_showsExactlyThisCode} keeps the
 * README's snippet and this method's body identical.
 */
@ExtendWith(LeakCheck.class)
class ReadmeNettyQuickStartTest {
  static AffinityProxyServer quickStart(String cookieSecret, int port) throws InterruptedException {
    // spotless:off
    // quickstart:begin
    BackendGroup group = BackendGroup.of(
        Backend.of("ws-1", "10.0.0.1", 8080),
        Backend.of("ws-2", "10.0.0.2", 8080));

    Router router = Router.builder(group)
        .strategy(AffinityStrategy.cookie(CookieAffinity.builder(
            CookieKeys.of(CookieKey.fromBase64(1, cookieSecret))).build()))
        .fallback(AffinityStrategy.leastConnections())
        .build();

    AffinityProxyServer lb = AffinityProxyServer.builder(router)
        .port(port)                                   // where clients connect
        .config(AffinityProxyConfig.builder()
            .idleTimeout(Duration.ofMinutes(10))      // close silent tunnels
            .build())
        .build()
        .start();                                     // ws://host:port/... is load balanced
    // quickstart:end
    // spotless:on
    return lb;
  }

  @Test
  void quickStart_servesAndValidates() throws Exception {
    String secret = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    try (AffinityProxyServer lb = quickStart(secret, 0);
        RawConnection c = RawConnection.open(lb.port())) {
      c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(c.readResponseHead().status()).isEqualTo(426);
    }
  }

  @Test
  void readme_showsExactlyThisCode() throws IOException {
    String readme = Files.readString(Path.of("..", "README.md"));
    String block = between(readme, "<!-- quickstart:netty:begin", "<!-- quickstart:netty:end -->");
    block =
        block.substring(
            block.indexOf("```java\n") + "```java\n".length(), block.lastIndexOf("```"));
    String source =
        Files.readString(
            Path.of("src/test/java/dev/affinity/netty/ReadmeNettyQuickStartTest.java"));
    String body = between(source, "// quickstart:begin\n", "    // quickstart:end");
    body = body.substring(body.indexOf('\n') + 1);
    StringBuilder unindented = new StringBuilder();
    for (String line : body.split("\n", -1)) {
      unindented.append(line.startsWith("    ") ? line.substring(4) : line).append('\n');
    }
    assertThat(unindented.substring(0, unindented.length() - 1)).isEqualTo(block);
  }

  private static String between(String s, String start, String end) {
    int i = s.indexOf(start);
    assertThat(i).as("marker %s", start).isNotNegative();
    int j = s.indexOf(end, i);
    assertThat(j).as("marker %s", end).isNotNegative();
    return s.substring(i, j);
  }
}

package dev.affinity.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Outcome;
import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.SetCookie;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.CookieAffinity;
import dev.affinity.strategy.CookieKey;
import dev.affinity.strategy.CookieKeys;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The first embedded Router of {@code docs/getting-started.md}, compiled and run; the guide must
 * show exactly this code and the output it prints.
 */
class GettingStartedTest {
  private static final Path GUIDE = Path.of("..", "docs", "getting-started.md");

  @SuppressWarnings("unused")
  static List<RoutingDecision> firstRouter(String secret) {
    // spotless:off
    // getting-started:begin
    BackendGroup group = BackendGroup.of(
        Backend.of("ws-1", "127.0.0.1", 9001),
        Backend.of("ws-2", "127.0.0.1", 9002),
        Backend.of("ws-3", "127.0.0.1", 9003));

    CookieAffinity cookies = CookieAffinity.builder(
            CookieKeys.of(CookieKey.fromBase64(1, secret)))   // openssl rand -base64 32
        .build();

    Router router = Router.builder(group)
        .strategy(AffinityStrategy.cookie(cookies))      // a returning browser goes back
        .strategy(AffinityStrategy.sourceIp())           // a first visit: by its address
        .fallback(AffinityStrategy.leastConnections())
        .build();

    // A browser's first handshake (an adapter builds this view of the real request).
    RoutingDecision first = router.select(RoutingRequest.builder()
        .remoteAddress("192.0.2.10", 50123)
        .path("/chat")
        .build());
    System.out.println(first.explanation());
    SetCookie cookie = first.cookie();                   // the adapter adds it to the 101

    // The same browser reconnects from another address, sending the cookie back.
    RoutingDecision again = router.select(RoutingRequest.builder()
        .remoteAddress("198.51.100.7", 40000)
        .path("/chat")
        .cookie(cookie.name(), cookie.value())
        .build());
    System.out.println(again.explanation());
    // getting-started:end
    // spotless:on
    return List.of(first, again);
  }

  @Test
  void firstRouter_placesTheBrowserThenKeepsItThereByCookie() {
    List<RoutingDecision> d = firstRouter("q83vEjRWeJ0Sit2Bkx7/3ahK0pwGm4UK1w5X2CkO4t8=");
    assertThat(d.get(0).strategy()).isEqualTo("source-ip");
    assertThat(d.get(0).cookie()).isNotNull();
    assertThat(d.get(1).outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(d.get(1).backend()).isEqualTo(d.get(0).backend());
    assertThat(d.get(1).strategy()).isEqualTo("cookie");
  }

  @Test
  void guide_showsExactlyThisCodeAndItsOutput() throws IOException {
    String guide = Files.readString(GUIDE);
    assertThat(guide).contains(snippet());
    PrintStream saved = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    try {
      firstRouter("q83vEjRWeJ0Sit2Bkx7/3ahK0pwGm4UK1w5X2CkO4t8=");
    } finally {
      System.setOut(saved);
    }
    for (String line : printed.toString(StandardCharsets.UTF_8).strip().split("\n")) {
      assertThat(guide).contains(line.strip());
    }
  }

  private static String snippet() throws IOException {
    String source =
        Files.readString(Path.of("src/test/java/dev/affinity/examples/GettingStartedTest.java"));
    int begin =
        source.indexOf("// getting-started:begin\n") + "// getting-started:begin\n".length();
    int end = source.lastIndexOf("    // getting-started:end");
    StringBuilder out = new StringBuilder();
    for (String line : source.substring(begin, end).split("\n", -1)) {
      out.append(line.startsWith("    ") ? line.substring(4) : line).append('\n');
    }
    return out.toString().stripTrailing();
  }
}

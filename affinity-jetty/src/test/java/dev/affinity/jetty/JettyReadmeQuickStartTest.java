package dev.affinity.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.CookieAffinity;
import dev.affinity.strategy.CookieKey;
import dev.affinity.strategy.CookieKeys;
import dev.affinity.testkit.EchoBackend;
import dev.affinity.testkit.Handshake;
import dev.affinity.testkit.WsClient;
import dev.affinity.testkit.WsSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;

/**
 * The Jetty quick start of README.md and docs/jetty.md, compiled and run against real backends.
 * {@link #readmeAndGuide_showExactlyThisCode} keeps both documents identical to the method body.
 */
class JettyReadmeQuickStartTest {
  static Server quickStart(int ws1Port, int ws2Port, int port, String secret) throws Exception {
    // spotless:off
    // jetty:begin
    BackendGroup group = BackendGroup.of(
        Backend.of("ws-1", "127.0.0.1", ws1Port),
        Backend.of("ws-2", "127.0.0.1", ws2Port));
    Router router = Router.builder(group)
        .strategy(AffinityStrategy.cookie(CookieAffinity.builder(
            CookieKeys.of(CookieKey.fromBase64(1, secret))).build()))  // returning clients
        .fallback(AffinityStrategy.leastConnections())                 // everyone else
        .build();

    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setPort(port);
    server.addConnector(connector);
    server.setHandler(AffinityHandler.builder(router).build());      // route + tunnel WebSockets
    server.start();
    // jetty:end
    // spotless:on
    return server;
  }

  @Test
  void quickStart_tunnelsAndKeepsTheClientOnItsBackend() throws Exception {
    String secret = Base64.getEncoder().encodeToString(new byte[32]);
    try (EchoBackend ws1 = EchoBackend.start("ws-1");
        EchoBackend ws2 = EchoBackend.start("ws-2");
        WsClient client = WsClient.jdk()) {
      Server server = quickStart(ws1.port(), ws2.port(), 0, secret);
      try {
        int port = ((ServerConnector) server.getConnectors()[0]).getLocalPort();
        String first;
        try (WsSession s = client.connect(Handshake.to(port, "/chat"))) {
          first = s.nextText();
          s.sendText("hello");
          assertThat(s.nextText()).isEqualTo("hello");
        }
        assertThat(first).isIn("backend:ws-1", "backend:ws-2");
        for (int i = 0; i < 3; i++) {
          try (WsSession s = client.connect(Handshake.to(port, "/chat"))) {
            assertThat(s.nextText()).as("reconnect %d sends the cookie back", i).isEqualTo(first);
          }
        }
      } finally {
        server.stop();
      }
    }
  }

  @Test
  void readmeAndGuide_showExactlyThisCode() throws IOException {
    String source =
        Files.readString(
            Path.of("src/test/java/dev/affinity/jetty/JettyReadmeQuickStartTest.java"));
    String body = unindent(between(source, "// jetty:begin\n", "    // jetty:end"), 4);
    for (String doc : new String[] {"../README.md", "../docs/jetty.md"}) {
      String text = Files.readString(Path.of(doc));
      String block = between(text, "<!-- quickstart:jetty:begin", "<!-- quickstart:jetty:end -->");
      assertThat(between(block, "```java\n", "```")).as(doc).isEqualTo(body);
    }
  }

  private static String between(String s, String start, String end) {
    int i = s.indexOf(start);
    assertThat(i).as("marker %s", start).isNotNegative();
    i = start.endsWith("\n") ? i + start.length() : s.indexOf('\n', i) + 1;
    int j = s.indexOf(end, i);
    assertThat(j).as("marker %s", end).isNotNegative();
    return s.substring(i, j);
  }

  private static String unindent(String s, int spaces) {
    StringBuilder out = new StringBuilder();
    for (String line : s.split("\n", -1)) {
      out.append(line.startsWith(" ".repeat(spaces)) ? line.substring(spaces) : line).append('\n');
    }
    return out.substring(0, out.length() - 1);
  }
}

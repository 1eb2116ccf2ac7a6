package dev.affinity.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.CookieAffinity;
import dev.affinity.strategy.CookieKey;
import dev.affinity.strategy.CookieKeys;
import dev.affinity.strategy.Selection;
import dev.affinity.testkit.RawConnection;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Decide-only mode: the handler routes and sets the affinity cookie, and a Jetty WebSocket endpoint
 * of the user's own serves the connection, reading the decision from the request attribute.
 */
class DecideOnlyTest {
  private static final CookieKeys KEYS =
      CookieKeys.of(
          CookieKey.of(1, "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8)));

  private final BackendGroup group =
      BackendGroup.of(
          Backend.of("ws-1", "127.0.0.1", 9),
          Backend.of("ws-2", "127.0.0.1", 9),
          Backend.of("ws-3", "127.0.0.1", 9));
  private final AtomicInteger opened = new AtomicInteger();
  private final AtomicReference<RoutingDecision> lastDecision = new AtomicReference<>();
  private Server server;
  private int port;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.stop();
    }
  }

  private void start(Router router) throws Exception {
    server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    server.addConnector(connector);
    AffinityHandler affinity = AffinityHandler.builder(router).decideOnly().build();
    affinity.setHandler(
        WebSocketUpgradeHandler.from(
            server,
            container ->
                container.addMapping(
                    "/*",
                    (req, resp, cb) -> {
                      opened.incrementAndGet();
                      RoutingDecision d = AffinityHandler.decision(req);
                      lastDecision.set(d);
                      return new AnnouncingEcho(d == null ? "none" : d.backend().id());
                    })));
    server.setHandler(affinity);
    server.start();
    port = connector.getLocalPort();
  }

  private Router cookieRouter() {
    return Router.builder(group)
        .strategy(AffinityStrategy.cookie(CookieAffinity.builder(KEYS).build()))
        .fallback(AffinityStrategy.roundRobin())
        .build();
  }

  @Test
  void decideOnly_userEndpointServesTheDecidedBackendAndCookieIsSet() throws Exception {
    start(cookieRouter());
    String cookie;
    String first;
    try (RawConnection c = RawConnection.open(port)) {
      RawConnection.Response r = c.send(RawConnection.upgradeRequest("/chat")).readResponseHead();
      assertThat(r.status()).isEqualTo(101);
      List<String> setCookies = r.headers("Set-Cookie");
      assertThat(setCookies).hasSize(1);
      assertThat(setCookies.get(0)).startsWith("AFFINITY=").contains("HttpOnly");
      cookie = setCookies.get(0).split(";")[0];
      first = c.readFrame().text();
    }
    assertThat(first).matches("backend:ws-[123]");
    // The endpoint kept the decision past the exchange; its view outlives Jetty's request.
    assertThat(lastDecision.get().request().header("Upgrade")).isEqualTo("websocket");
    assertThat(lastDecision.get().request().path()).isEqualTo("/chat");
    for (int i = 0; i < 5; i++) {
      try (RawConnection c = RawConnection.open(port)) {
        RawConnection.Response r =
            c.send(RawConnection.upgradeRequest("/chat", "Cookie: " + cookie)).readResponseHead();
        assertThat(r.status()).isEqualTo(101);
        assertThat(c.readFrame().text()).isEqualTo(first);
        assertThat(r.headers("Set-Cookie")).as("a returning client keeps its cookie").isEmpty();
      }
    }
  }

  @Test
  void decideOnly_withoutCookieSpreadsOverBackends() throws Exception {
    start(cookieRouter());
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 6; i++) {
      try (RawConnection c = RawConnection.open(port)) {
        assertThat(c.send(RawConnection.upgradeRequest("/chat")).readResponseHead().status())
            .isEqualTo(101);
        seen.add(c.readFrame().text());
      }
    }
    assertThat(seen).containsExactlyInAnyOrder("backend:ws-1", "backend:ws-2", "backend:ws-3");
  }

  @Test
  void decideOnly_rejectIs401AndNoBackendIs503_userEndpointNotCalled() throws Exception {
    AffinityStrategy rejecting =
        new AffinityStrategy() {
          @Override
          public Selection select(
              dev.affinity.RoutingRequest request, dev.affinity.backend.Membership membership) {
            return "/private".equals(request.path())
                ? Selection.reject("no token")
                : Selection.abstain("public");
          }

          @Override
          public String name() {
            return "test-reject";
          }
        };
    group.markDown("ws-1");
    group.markDown("ws-2");
    group.markDown("ws-3");
    start(Router.builder(group).strategy(rejecting).build());
    for (String[] pathAndStatus : new String[][] {{"/private", "401"}, {"/public", "503"}}) {
      try (RawConnection c = RawConnection.open(port)) {
        RawConnection.Response r =
            c.send(RawConnection.upgradeRequest(pathAndStatus[0])).readResponseHead();
        assertThat(r.status()).isEqualTo(Integer.parseInt(pathAndStatus[1]));
        assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
        assertThat(c.awaitClosed()).isTrue();
      }
    }
    assertThat(opened.get()).as("the user's endpoint never ran").isZero();
  }

  @Test
  void decideOnly_plainRequestGoesToWrappedHandler() throws Exception {
    start(cookieRouter());
    try (RawConnection c = RawConnection.open(port)) {
      c.send("GET /page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assertThat(c.readResponseHead().status())
          .as("not a handshake: the wrapped handler answers")
          .isEqualTo(404);
    }
  }
}

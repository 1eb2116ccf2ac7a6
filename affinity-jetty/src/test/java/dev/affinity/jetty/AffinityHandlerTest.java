package dev.affinity.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.RoutingRequest;
import dev.affinity.client.ClientAddressResolver;
import dev.affinity.client.ForwardedHeader;
import dev.affinity.lifecycle.ConnectionLifecycle;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.testkit.AdapterScenarios;
import dev.affinity.testkit.EchoBackend;
import dev.affinity.testkit.Handshake;
import dev.affinity.testkit.ProxyHandle;
import dev.affinity.testkit.ProxySettings;
import dev.affinity.testkit.RawConnection;
import dev.affinity.testkit.WsClient;
import dev.affinity.testkit.WsSession;
import io.netty.handler.codec.http.FullHttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The shared adapter scenarios (affinity-testkit) run against {@link AffinityHandler} on a real
 * Jetty server, plus the Jetty-specific ones below.
 */
class AffinityHandlerTest extends AdapterScenarios {
  @Override
  protected ProxyHandle startProxy(Router router, ProxySettings settings) throws Exception {
    AffinityHandler handler =
        AffinityHandler.builder(router)
            .connectTimeout(settings.connectTimeout())
            .handshakeTimeout(settings.handshakeTimeout())
            .idleTimeout(settings.idleTimeout())
            .trustedProxies(settings.trustedProxies().toArray(new String[0]))
            .requestHeadTimeout(settings.requestHeadTimeout())
            .build();
    return JettyProxy.start(handler, settings.proxyProtocol());
  }

  // ---------------------------------------------------------------- Jetty-specific

  private JettyProxy jettyProxy(AffinityHandler.Builder handler) throws Exception {
    JettyProxy p = JettyProxy.start(handler.build());
    register(p);
    return p;
  }

  private final List<AutoCloseable> jettyCloseables = new ArrayList<>();

  private void register(AutoCloseable c) {
    jettyCloseables.add(c);
  }

  @AfterEach
  void closeJettyProxies() throws Exception {
    for (AutoCloseable c : jettyCloseables) {
      c.close();
    }
  }

  /** Jetty's connector idle timeout (30 s by default) must not apply once the tunnel is up. */
  @Test
  void connectorIdleTimeout_doesNotCloseAQuietTunnel() throws Exception {
    JettyProxy p = jettyProxy(AffinityHandler.builder(router().build()));
    ((ServerConnector) p.server.server().getConnectors()[0]).setIdleTimeout(200);
    WsSession s = client(WsClient.jdk()).connect(Handshake.to(p.port(), "/"));
    assertThat(s.nextText()).startsWith("backend:");
    // A barrier instead of a wait: a plain connection opened after the tunnel went quiet, and as
    // quiet, is closed by the connector's idle timeout. The tunnel, quiet for longer, stays open.
    try (RawConnection quiet = RawConnection.open(p.port()).readTimeout(WAIT)) {
      assertThat(quiet.awaitClosed()).as("a quiet plain connection hits the idle timeout").isTrue();
    }
    assertThat(s.isOpen()).as("the quiet tunnel").isTrue();
    s.sendText("still here");
    assertThat(s.nextText()).isEqualTo("still here");
    s.close();
  }

  @Test
  void tunnels_listsLiveTunnels_andClosingOneEndsBothLegsAndItsLease() throws Exception {
    JettyProxy p = jettyProxy(AffinityHandler.builder(router().build()));
    WsClient jdk = client(WsClient.jdk());
    WsSession a = jdk.connect(Handshake.to(p.port(), "/a?room=7").header("X-Tag", "alpha"));
    String onA = a.nextText().substring("backend:".length());
    AffinityHandler h = p.server.handler();
    assertThat(h.tunnels()).hasSize(1);
    Tunnel ta = h.tunnels().iterator().next();
    WsSession b = jdk.connect(Handshake.to(p.port(), "/b"));
    b.nextText();
    assertThat(h.tunnels()).hasSize(2).contains(ta);
    assertThat(ta.backend().id()).isEqualTo(onA);
    // The decision outlives the handshake; its request view does not (Jetty recycles requests).
    assertThat(ta.decision().backend()).isEqualTo(ta.backend());
    assertThat(ta.isOpen()).isTrue();
    ta.close();
    ta.close(); // idempotent
    assertThat(a.awaitClosed(WAIT)).isTrue();
    assertThat(ta.isOpen()).isFalse();
    assertThat(h.tunnels()).hasSize(1);
    awaitTrue(() -> totalLeases() == 1, "one lease left, got " + group().liveConnections());
    b.sendText("unaffected");
    assertThat(b.nextText()).isEqualTo("unaffected");
  }

  @Test
  void lifecycleMaxLifetime_closesTheTunnelThroughItsLease() throws Exception {
    JettyProxy p = jettyProxy(AffinityHandler.builder(router().build()));
    ConnectionLifecycle lifecycle =
        ConnectionLifecycle.builder(group())
            .maxLifetime(Duration.ofMillis(300), Duration.ZERO)
            .scanInterval(Duration.ofMillis(50))
            .build()
            .start();
    try {
      WsSession s = client(WsClient.jdk()).connect(Handshake.to(p.port(), "/"));
      // No read of the backend's greeting first: on a loaded machine the lifetime may end before
      // it is relayed, and the close frame then comes first, which is correct too.
      assertThat(s.awaitClosed(WAIT)).isTrue();
      assertThat(s.closeStatus()).as("1012 service restart").isEqualTo(1012);
      awaitTrue(() -> p.server.handler().tunnels().isEmpty(), "tunnel closed");
      awaitTrue(() -> totalLeases() == 0, "lease closed, got " + group().liveConnections());
    } finally {
      lifecycle.close();
    }
  }

  /** A backend that took the request and stays silent gets 504 at once; no other is tried. */
  @Test
  void silentBackend_answers504_withoutTryingTheOthers() throws Exception {
    List<String> failed = new CopyOnWriteArrayList<>();
    dev.affinity.Router router =
        dev.affinity.Router.builder(group())
            .strategy(
                AffinityStrategy.rendezvous(dev.affinity.strategy.RoutingKey.header("X-User")))
            .listener(
                new dev.affinity.metrics.RoutingListener() {
                  @Override
                  public void connectFailed(dev.affinity.backend.Backend backend, Throwable cause) {
                    failed.add(backend.id());
                  }
                })
            .build();
    String user = userOwnedBy(router, "ws-1");
    backend("ws-1").hang(true);
    JettyProxy p =
        jettyProxy(AffinityHandler.builder(router).handshakeTimeout(Duration.ofMillis(500)));
    assertErrorAnswer(p, RawConnection.upgradeRequest("/", "X-User: " + user), 504);
    assertThat(failed).containsExactly("ws-1");
    assertThat(backend("ws-2").handshakes()).isEmpty();
    assertThat(backend("ws-3").handshakes()).isEmpty();
    awaitTrue(() -> totalLeases() == 0, "lease of the silent attempt closed");
  }

  /** Host names resolve off the selector; an unknown one fails over like a refused connect. */
  @Test
  void backendHostNames_areResolved_andAnUnknownOneFailsOver() throws Exception {
    List<String> failed = new CopyOnWriteArrayList<>();
    dev.affinity.backend.BackendGroup named =
        dev.affinity.backend.BackendGroup.of(
            dev.affinity.backend.Backend.of("ws-nx", "no-such-host.invalid", 80),
            dev.affinity.backend.Backend.of("ws-local", "localhost", backend("ws-2").port()));
    dev.affinity.Router router =
        dev.affinity.Router.builder(named)
            .strategy(
                AffinityStrategy.rendezvous(dev.affinity.strategy.RoutingKey.header("X-User")))
            .listener(
                new dev.affinity.metrics.RoutingListener() {
                  @Override
                  public void connectFailed(dev.affinity.backend.Backend backend, Throwable cause) {
                    failed.add(backend.id());
                  }
                })
            .build();
    JettyProxy p =
        jettyProxy(AffinityHandler.builder(router).connectTimeout(Duration.ofSeconds(3)));
    WsClient jdk = client(WsClient.jdk());
    try (WsSession s =
        jdk.connect(
            Handshake.to(p.port(), "/").header("X-User", userOwnedBy(router, "ws-local")))) {
      assertThat(s.nextText()).isEqualTo("backend:ws-2");
    }
    try (WsSession s =
        jdk.connect(Handshake.to(p.port(), "/").header("X-User", userOwnedBy(router, "ws-nx")))) {
      assertThat(s.nextText()).isEqualTo("backend:ws-2");
    }
    assertThat(failed).containsExactly("ws-nx");
  }

  /**
   * A backend that takes the request and then closes, or answers something that is not HTTP, has
   * answered nothing: the next candidate serves and the failure is reported.
   */
  @Test
  void backendThatClosesOrAnswersGarbage_beforeAResponseHead_failsOver() throws Exception {
    for (String answer : new String[] {"", "SSH-2.0-OpenSSH\r\n\r\n"}) {
      try (java.net.ServerSocket rude =
          new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
        Thread acceptor =
            new Thread(
                () -> {
                  try {
                    while (true) {
                      try (java.net.Socket s = rude.accept()) {
                        s.getInputStream().read(); // the forwarded head has arrived
                        s.getOutputStream().write(answer.getBytes(StandardCharsets.ISO_8859_1));
                      }
                    }
                  } catch (java.io.IOException closed) {
                    // the test is over
                  }
                });
        acceptor.setDaemon(true);
        acceptor.start();
        List<String> failed = new CopyOnWriteArrayList<>();
        dev.affinity.Router router =
            dev.affinity.Router.builder(
                    dev.affinity.backend.BackendGroup.of(
                        dev.affinity.backend.Backend.of(
                            "ws-rude", "127.0.0.1", rude.getLocalPort()),
                        dev.affinity.backend.Backend.of(
                            "ws-2", "127.0.0.1", backend("ws-2").port())))
                .strategy(
                    AffinityStrategy.rendezvous(dev.affinity.strategy.RoutingKey.header("X-User")))
                .listener(
                    new dev.affinity.metrics.RoutingListener() {
                      @Override
                      public void connectFailed(
                          dev.affinity.backend.Backend backend, Throwable cause) {
                        failed.add(backend.id());
                      }
                    })
                .build();
        JettyProxy p = jettyProxy(AffinityHandler.builder(router));
        try (WsSession s =
            client(WsClient.jdk())
                .connect(
                    Handshake.to(p.port(), "/").header("X-User", userOwnedBy(router, "ws-rude")))) {
          assertThat(s.nextText())
              .as("answer %s", answer.isEmpty() ? "close" : answer)
              .isEqualTo("backend:ws-2");
        }
        assertThat(failed).containsExactly("ws-rude");
      }
    }
  }

  @Test
  void closeWithCode_reachesTheClientAsACloseFrame_evenDuringAFlood() throws Exception {
    JettyProxy p = jettyProxy(AffinityHandler.builder(router().build()));
    WsClient jetty = client(WsClient.jetty());
    WsSession idle = jetty.connect(Handshake.to(p.port(), "/idle"));
    idle.nextText();
    Tunnel idleTunnel = onlyNewTunnel(p, Set.of());
    WsSession busy = jetty.connect(Handshake.to(p.port(), "/busy"));
    busy.nextText();
    Tunnel busyTunnel = onlyNewTunnel(p, Set.of(idleTunnel));

    idleTunnel.close(1012, "rebalancing");
    assertThat(idle.awaitClosed(WAIT)).isTrue();
    assertThat(idle.closeStatus()).isEqualTo(1012);

    // Mid-flood the backend is usually inside a frame: the close waits for its end, so the client
    // sees whole 64 KiB messages and then the close, never a cut frame.
    busy.sendText("flood:" + (64L << 20));
    assertThat(busy.nextBinary()).hasSize(EchoBackend.FLOOD_FRAME_SIZE);
    busyTunnel.close(1001, "backend draining");
    int messages = 0;
    while (true) {
      dev.affinity.testkit.WsMessage m;
      try {
        m = busy.next(WAIT);
      } catch (AssertionError closed) {
        break;
      }
      assertThat(m.binary()).hasSize(EchoBackend.FLOOD_FRAME_SIZE);
      messages++;
    }
    assertThat(busy.closeStatus()).as("after %d whole messages", messages).isEqualTo(1001);
    awaitTrue(() -> totalLeases() == 0, "leases closed, got " + group().liveConnections());
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> busyTunnel.close(999, "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("webSocketCode: 999 (expected: 1000..4999, not 1005, 1006 or 1015)");
  }

  /** The one live tunnel not in {@code known} (requests are recycled: no path to match on). */
  private static Tunnel onlyNewTunnel(JettyProxy p, Set<Tunnel> known) {
    List<Tunnel> fresh =
        p.server.handler().tunnels().stream().filter(t -> !known.contains(t)).toList();
    assertThat(fresh).hasSize(1);
    return fresh.get(0);
  }

  /** The handler's own limits apply below Jetty's, and are answered 431. */
  @Test
  void handlerLimits_onHeaderCountAndHeadSize_answer431() throws Exception {
    JettyProxy p =
        jettyProxy(
            AffinityHandler.builder(router().build()).maxHeaderCount(10).maxRequestHeadBytes(600));
    String[] eight = new String[8];
    for (int i = 0; i < eight.length; i++) {
      eight[i] = "X-H" + i + ": v";
    }
    assertErrorAnswer(p, RawConnection.upgradeRequest("/", eight), 431);
    assertErrorAnswer(p, RawConnection.upgradeRequest("/", "X-Big: " + "b".repeat(500)), 431);
    try (WsSession s = client(WsClient.jdk()).connect(Handshake.to(p.port(), "/"))) {
      assertThat(s.nextText()).as("a handshake within both limits").startsWith("backend:");
    }
  }

  @Test
  void proxyProtocol_sourceAddressRoutes_andIsForwarded() throws Exception {
    ClientAddressResolver resolver =
        ClientAddressResolver.builder()
            .trustedProxies("127.0.0.1/32")
            .proxyProtocol(true)
            .forwardedHeader(ForwardedHeader.X_FORWARDED_FOR)
            .build();
    dev.affinity.Router router = router().strategy(AffinityStrategy.sourceIp(resolver)).build();
    AffinityServer server =
        AffinityServer.builder(
                AffinityHandler.builder(router).trustedProxies("127.0.0.1/32").build())
            .host("127.0.0.1")
            .proxyProtocol(true)
            .build()
            .start();
    register(server);
    for (String ip : new String[] {"203.0.113.9", "198.51.100.20", "192.0.2.33"}) {
      String owner =
          router
              .select(
                  RoutingRequest.builder()
                      .remoteAddress("127.0.0.1", 40000)
                      .proxyProtocolSourceAddress(new java.net.InetSocketAddress(ip, 5555))
                      .build())
              .backend()
              .id();
      try (RawConnection c = RawConnection.open(server.port())) {
        c.send("PROXY TCP4 " + ip + " 127.0.0.1 5555 80\r\n" + RawConnection.upgradeRequest("/"));
        assertThat(c.readResponseHead().status()).isEqualTo(101);
        assertThat(c.readFrame().text()).isEqualTo("backend:" + owner);
      }
      java.util.List<FullHttpRequest> seen = backend(owner).handshakes();
      FullHttpRequest last = seen.get(seen.size() - 1);
      assertThat(last.headers().get("X-Forwarded-For").replace(" ", ""))
          .as("the trusted peer's PROXY source is the client")
          .isEqualTo(ip);
    }
  }

  @Test
  void plainHttpRequests_goToTheWrappedHandler() throws Exception {
    AffinityHandler handler = AffinityHandler.builder(router().build()).build();
    handler.setHandler(
        new org.eclipse.jetty.server.Handler.Abstract() {
          @Override
          public boolean handle(
              org.eclipse.jetty.server.Request request,
              org.eclipse.jetty.server.Response response,
              Callback callback) {
            response.write(
                true, java.nio.ByteBuffer.wrap("plain".getBytes(StandardCharsets.UTF_8)), callback);
            return true;
          }
        });
    JettyProxy p = JettyProxy.start(handler);
    register(p);
    try (RawConnection c = RawConnection.open(p.port())) {
      c.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      RawConnection.Response r = c.readResponseHead();
      assertThat(r.status()).isEqualTo(200);
      assertThat(new String(c.readToEnd(100), StandardCharsets.UTF_8)).isEqualTo("plain");
    }
    assertThat(group().liveConnections().values()).allMatch(n -> n == 0);
  }

  private int totalLeases() {
    return group().liveConnections().values().stream().mapToInt(Integer::intValue).sum();
  }

  /**
   * An {@link AffinityServer} on 127.0.0.1 that records exceptions thrown out of handlers into
   * Jetty's error page.
   */
  static final class JettyProxy implements ProxyHandle {
    final AffinityServer server;
    final ArrayByteBufferPool.Tracking buffers = new ArrayByteBufferPool.Tracking();
    final List<Throwable> escaped = new CopyOnWriteArrayList<>();

    private JettyProxy(AffinityHandler handler, boolean proxyProtocol) {
      this.server =
          AffinityServer.builder(handler)
              .host("127.0.0.1")
              .proxyProtocol(proxyProtocol)
              .byteBufferPool(buffers)
              .build();
    }

    static JettyProxy start(AffinityHandler handler) throws Exception {
      return start(handler, false);
    }

    static JettyProxy start(AffinityHandler handler, boolean proxyProtocol) throws Exception {
      JettyProxy p = new JettyProxy(handler, proxyProtocol);
      p.server
          .server()
          .setErrorHandler(
              new CloseOnErrorHandler() {
                @Override
                public boolean handle(Request request, Response response, Callback callback)
                    throws Exception {
                  Object failure =
                      request.getAttribute(
                          org.eclipse.jetty.server.handler.ErrorHandler.ERROR_EXCEPTION);
                  // Jetty's own answers to requests it could not parse are not escapes.
                  if (failure instanceof Throwable && !(failure instanceof HttpException)) {
                    p.escaped.add((Throwable) failure);
                  }
                  return super.handle(request, response, callback);
                }
              });
      p.server.start();
      return p;
    }

    @Override
    public int port() {
      return server.port();
    }

    @Override
    public List<Throwable> escapedExceptions() {
      return escaped;
    }

    /** Stops the server and fails the scenario if a pooled buffer was never released. */
    @Override
    public void close() {
      server.close();
      if (!buffers.getLeaks().isEmpty()) {
        throw new AssertionError("buffers leaked: " + buffers.dumpLeaks());
      }
    }
  }
}

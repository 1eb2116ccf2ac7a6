package dev.affinity.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.testkit.AdapterScenarios;
import dev.affinity.testkit.Handshake;
import dev.affinity.testkit.ProxyHandle;
import dev.affinity.testkit.ProxySettings;
import dev.affinity.testkit.RawConnection;
import dev.affinity.testkit.TunnelView;
import dev.affinity.testkit.WsClient;
import dev.affinity.testkit.WsSession;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
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

  /**
   * Decide-only in front of the user's own Jetty WebSocket endpoint ({@link
   * WebSocketUpgradeHandler} wrapped by the affinity handler), reading the decision from the
   * request attribute.
   */
  @Override
  protected ProxyHandle startDecideOnly(Router router, Runnable endpointCalled) throws Exception {
    Server server = new Server();
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
                      endpointCalled.run();
                      RoutingDecision d = AffinityHandler.decision(req);
                      return new AnnouncingEcho(d == null ? "none" : d.backend().id());
                    })));
    server.setHandler(affinity);
    server.start();
    return ProxyHandle.of(
        connector::getLocalPort,
        () -> {
          try {
            server.stop();
          } catch (Exception e) {
            throw new IllegalStateException("stopping the decide-only server", e);
          }
        });
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

  /**
   * {@link AffinityServer}'s pool is bounded by the core count, and a tunnel holds no thread: more
   * tunnels than the pool has threads are open at once and all relay (a tunnel that needed a thread
   * while open would stall the ones beyond the pool's size).
   */
  @Test
  void moreTunnelsThanThreads_allRelayOnTheBoundedPool() throws Exception {
    JettyProxy p = jettyProxy(AffinityHandler.builder(router().build()));
    QueuedThreadPool pool = (QueuedThreadPool) p.server.server().getThreadPool();
    int cores = Runtime.getRuntime().availableProcessors();
    assertThat(pool.getMaxThreads()).isEqualTo(Math.max(16, 4 * cores));
    WsClient c = client(WsClient.jdk());
    List<WsSession> sessions = new ArrayList<>();
    for (int i = 0; i < pool.getMaxThreads() + 16; i++) {
      WsSession s = c.connect(Handshake.to(p.port(), "/"));
      sessions.add(s);
      assertThat(s.nextText()).startsWith("backend:");
    }
    for (int i = 0; i < sessions.size(); i++) {
      sessions.get(i).sendText("m" + i);
    }
    for (int i = 0; i < sessions.size(); i++) {
      assertThat(sessions.get(i).nextText()).isEqualTo("m" + i);
    }
    assertThat(p.server.tunnels()).hasSize(sessions.size());
    for (WsSession s : sessions) {
      s.close();
    }
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

    @Override
    public List<TunnelView> tunnels() {
      return server.tunnels().stream()
          .map(t -> TunnelView.of(t, () -> t.backend().id(), t::isOpen, t::close, t::close))
          .toList();
    }

    /** Stops the server and fails the scenario if a pooled buffer was never released. */
    @Override
    public void close() {
      server.close();
      if (!leaks().isEmpty()) {
        throw new AssertionError("buffers leaked: " + buffers.dumpLeaks());
      }
    }

    /**
     * The pooled buffers not released, except one kind Jetty drops: the read buffer a plain-HTTP
     * backend connection holds when its exchange is aborted (a client gone mid-stream, a graceful
     * stop). Jetty 12.1.14's {@code HttpReceiverOverHTTP.dispose()} does not release it; it goes to
     * the garbage collector instead of back to the pool, so nothing accumulates.
     */
    List<ArrayByteBufferPool.Tracking.TrackedBuffer> leaks() {
      List<ArrayByteBufferPool.Tracking.TrackedBuffer> leaks = new ArrayList<>();
      for (ArrayByteBufferPool.Tracking.TrackedBuffer b : buffers.getLeaks()) {
        boolean droppedByJettyClient = false;
        for (StackTraceElement e : b.getAcquireStack().getStackTrace()) {
          droppedByJettyClient |=
              e.getClassName().endsWith("HttpReceiverOverHTTP")
                  && e.getMethodName().equals("newNetworkBuffer");
        }
        if (!droppedByJettyClient) {
          leaks.add(b);
        }
      }
      return leaks;
    }
  }
}

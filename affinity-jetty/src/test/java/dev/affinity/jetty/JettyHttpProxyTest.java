package dev.affinity.jetty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.Router;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.internal.http.ErrorAnswer;
import dev.affinity.metrics.RoutingListener;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.CookieAffinity;
import dev.affinity.strategy.CookieKey;
import dev.affinity.strategy.CookieKeys;
import dev.affinity.strategy.RoutingKey;
import dev.affinity.testkit.Await;
import dev.affinity.testkit.DeadPort;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Jetty-specific side of plain-HTTP proxying ({@code proxyHttp}): what the shared scenarios do
 * not reach, with real Jetty backends and hand-written HTTP/1.1 clients on 127.0.0.1. Pool bound
 * and eviction are counted at the backends' connectors; back-pressure is seen at the backend's
 * writes and in the proxy's buffer pool.
 */
class JettyHttpProxyTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final CookieKey KEY =
      CookieKey.of(1, "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII));

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final List<AffinityHandlerTest.JettyProxy> proxies = new ArrayList<>();
  private final List<Backend> connectFailures = new CopyOnWriteArrayList<>();
  private List<HttpTestBackend> backends = List.of();
  private BackendGroup group = BackendGroup.create();

  @BeforeEach
  void startBackends() throws Exception {
    backends = HttpTestBackend.start(3);
    List<Backend> members = new ArrayList<>();
    for (HttpTestBackend b : backends) {
      members.add(Backend.of(b.id(), "127.0.0.1", b.port()));
    }
    group = BackendGroup.of(members);
  }

  @AfterEach
  void stopEverything() throws Exception {
    for (AffinityHandlerTest.JettyProxy p : proxies) {
      // Jetty's HttpClient frees a connection's read buffer once the connection is idle; one
      // stopped a moment after a response may not have got there yet. Quiet first, so that the
      // leak check at close sees what is left for good.
      try {
        Await.until("the proxy's buffers are back in its pool", WAIT, () -> p.leaks().isEmpty());
      } catch (AssertionError e) {
        throw new AssertionError("buffers leaked: " + p.buffers.dumpLeaks(), e);
      }
    }
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
    for (HttpTestBackend b : backends) {
      b.close();
    }
  }

  private Router.Builder router() {
    return Router.builder(group)
        .listener(
            new RoutingListener() {
              @Override
              public void connectFailed(Backend backend, Throwable cause) {
                connectFailures.add(backend);
              }
            });
  }

  /** Cookie affinity; the fallback rotates, so only the cookie sticks. */
  private Router cookieRouter() {
    return router()
        .strategy(AffinityStrategy.cookie(CookieAffinity.builder(CookieKeys.of(KEY)).build()))
        .fallback(AffinityStrategy.roundRobin())
        .build();
  }

  private Router userRouter() {
    return router().strategy(AffinityStrategy.rendezvous(RoutingKey.header("X-User"))).build();
  }

  private AffinityHandlerTest.JettyProxy proxy(AffinityHandler.Builder handler) throws Exception {
    AffinityHandlerTest.JettyProxy p = AffinityHandlerTest.JettyProxy.start(handler.build());
    closeables.add(p);
    proxies.add(p);
    return p;
  }

  private HttpWire wire(int port) {
    HttpWire w = HttpWire.open(port);
    closeables.add(w);
    return w;
  }

  private HttpTestBackend backend(String id) {
    for (HttpTestBackend b : backends) {
      if (b.id().equals(id)) {
        return b;
      }
    }
    throw new AssertionError("no backend " + id);
  }

  private static String userOwnedBy(Router router, String owner) {
    for (int i = 0; i < 10_000; i++) {
      String user = "user-" + i;
      RoutingRequest r =
          RoutingRequest.builder()
              .remoteAddress("127.0.0.1", 40000)
              .path("/")
              .header("X-User", user)
              .build();
      if (router.select(r).backend().id().equals(owner)) {
        return user;
      }
    }
    throw new AssertionError("no user owned by " + owner);
  }

  private static String affinityCookie(HttpWire.Reply r) {
    for (String c : r.headers("Set-Cookie")) {
      if (c.startsWith(CookieAffinity.DEFAULT_NAME + "=")) {
        return c.substring(0, c.indexOf(';'));
      }
    }
    throw new AssertionError("no affinity cookie in " + r.fields);
  }

  // ------------------------------------------------------------------ stickiness

  @Test
  void cookie_firstResponseCarriesIt_nextToTheBackendsOwn_andLaterRequestsStick() throws Exception {
    AffinityHandlerTest.JettyProxy p =
        proxy(AffinityHandler.builder(cookieRouter()).proxyHttp(true));
    HttpWire.Reply first = wire(p.port()).exchange(HttpWire.get("/poll"));
    assertThat(first.status()).isEqualTo(200);
    String owner = first.body.substring("backend:".length());
    assertThat(first.headers("Set-Cookie")).contains("own=" + owner + "; Path=/");
    String cookie = affinityCookie(first);
    for (int i = 0; i < 20; i++) {
      // A new connection each time: only the cookie can bring the client back.
      HttpWire.Reply r = wire(p.port()).exchange(HttpWire.get("/poll", "Cookie: " + cookie));
      assertThat(r.body).isEqualTo("backend:" + owner);
    }
    Set<String> withoutCookie = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      withoutCookie.add(wire(p.port()).exchange(HttpWire.get("/poll")).body);
    }
    assertThat(withoutCookie).as("without the cookie the fallback rotates").hasSizeGreaterThan(1);
  }

  @Test
  void keepAlive_thousandSequentialRequestsOnOneConnection_reuseAtMostTwoBackendConnections()
      throws Exception {
    AffinityHandlerTest.JettyProxy p =
        proxy(AffinityHandler.builder(cookieRouter()).proxyHttp(true));
    HttpWire w = wire(p.port());
    HttpWire.Reply first = w.exchange(HttpWire.get("/"));
    String cookie = affinityCookie(first);
    for (int i = 1; i < 1000; i++) {
      HttpWire.Reply r = w.exchange(HttpWire.get("/", "Cookie: " + cookie));
      assertThat(r.body).isEqualTo(first.body);
    }
    int accepted = backends.stream().mapToInt(HttpTestBackend::accepted).sum();
    int served = backends.stream().mapToInt(HttpTestBackend::requests).sum();
    assertThat(served).isEqualTo(1000);
    assertThat(accepted).as("backend connections for 1,000 requests").isBetween(1, 2);
  }

  // ------------------------------------------------------------------ the pool

  @Test
  void poolBound_moreConcurrentRequestsThanConnections_waitForAFreeOne() throws Exception {
    Router router = userRouter();
    AffinityHandlerTest.JettyProxy p =
        proxy(AffinityHandler.builder(router).proxyHttp(true).httpMaxConnectionsPerBackend(2));
    String user = userOwnedBy(router, "http-1");
    HttpTestBackend b = backend("http-1");
    List<HttpWire> clients = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      clients.add(wire(p.port()).send(HttpWire.get("/hold", "X-User: " + user)));
    }
    Await.until("two requests held", WAIT, () -> b.held() == 2);
    assertThat(b.accepted()).as("connections while six requests wait").isEqualTo(2);
    b.release();
    for (HttpWire c : clients) {
      assertThat(c.read().body).isEqualTo("backend:http-1");
    }
    assertThat(b.held()).isEqualTo(6);
    assertThat(b.maxOpen()).as("most connections open at once").isEqualTo(2);
  }

  @Test
  void poolIdleTimeout_closesIdleBackendConnections_whileTheClientKeepsItsOwn() throws Exception {
    Router router = userRouter();
    AffinityHandlerTest.JettyProxy p =
        proxy(
            AffinityHandler.builder(router)
                .proxyHttp(true)
                .httpPoolIdleTimeout(Duration.ofMillis(200)));
    String user = userOwnedBy(router, "http-2");
    HttpTestBackend b = backend("http-2");
    HttpWire w = wire(p.port());
    assertThat(w.exchange(HttpWire.get("/", "X-User: " + user)).body).isEqualTo("backend:http-2");
    assertThat(b.accepted()).isEqualTo(1);
    Await.until("the idle backend connection is closed", WAIT, () -> b.open() == 0);
    assertThat(w.exchange(HttpWire.get("/", "X-User: " + user)).body)
        .as("the same client connection, a new backend connection")
        .isEqualTo("backend:http-2");
    assertThat(b.accepted()).isEqualTo(2);
  }

  // ------------------------------------------------------------------ streaming

  /**
   * A stream of 1,000 events arrives complete and in order through a reader that first stalls:
   * while it reads nothing, the backend's writes stop (its write waits for the connection) and the
   * proxy holds only a few pooled buffers, not the stream.
   */
  @Test
  void sse_thousandEvents_arriveInOrder_andAStalledReaderStallsTheBackend() throws Exception {
    Router router = userRouter();
    AffinityHandlerTest.JettyProxy p = proxy(AffinityHandler.builder(router).proxyHttp(true));
    String user = userOwnedBy(router, "http-3");
    HttpTestBackend b = backend("http-3");
    int events = 1000;
    int pad = 64 * 1024; // 1,000 events of 64 KiB: 64 MiB, far more than socket buffers hold
    HttpWire w = HttpWire.open(p.port(), 8 * 1024);
    closeables.add(w);
    w.send(HttpWire.get("/sse?n=" + events + "&pad=" + pad, "X-User: " + user));
    HttpWire.Reply head = w.readHead();
    assertThat(head.status()).isEqualTo(200);
    assertThat(head.header("Content-Type")).startsWith("text/event-stream");
    // Stalled: a write is pending, and still the same one a poll later.
    int[] seen = {-1};
    Await.until(
        "the backend's write waits for the stalled reader",
        WAIT,
        () -> {
          int done = b.sseCompletedWrites();
          boolean stalled = b.sseWritePending() && done == seen[0];
          seen[0] = done;
          return stalled;
        });
    long written = b.sseWritten();
    long total = (long) events * (pad + 12);
    assertThat(written)
        .as("bytes the backend got rid of while the reader stalled")
        .isLessThan(total / 4);
    long held = p.buffers.getLeaks().stream().mapToLong(l -> l.capacity()).sum();
    assertThat(held).as("bytes of pooled buffers the proxy holds").isLessThan(1024 * 1024);
    StringBuilder stream = new StringBuilder();
    int next = 0;
    for (byte[] c = w.nextChunk(); c != null; c = w.nextChunk()) {
      stream.append(new String(c, StandardCharsets.UTF_8));
      int end;
      while ((end = stream.indexOf("\n\n")) >= 0) {
        String event = stream.substring(0, end);
        stream.delete(0, end + 2);
        assertThat(event).startsWith("data: " + next + " ");
        assertThat(event).hasSize(("data: " + next + " ").length() + pad);
        next++;
      }
    }
    assertThat(next).isEqualTo(events);
  }

  @Test
  void requestBodies_fixedAndChunked_reachTheBackendWhole() throws Exception {
    AffinityHandlerTest.JettyProxy p =
        proxy(AffinityHandler.builder(cookieRouter()).proxyHttp(true));
    HttpWire w = wire(p.port());
    String body = "b".repeat(100_000);
    HttpWire.Reply fixed =
        w.exchange(
            "POST /upload HTTP/1.1\r\nHost: proxy\r\nContent-Length: "
                + body.length()
                + "\r\n\r\n"
                + body);
    assertThat(fixed.body).isEqualTo("got:100000");
    HttpWire.Reply chunked =
        w.exchange(
            "POST /upload HTTP/1.1\r\nHost: proxy\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    assertThat(chunked.body).isEqualTo("got:11");
  }

  // ------------------------------------------------------------------ limits

  @Test
  void bodyAboveTheLimit_withContentLength_answers413BeforeAnyBackend() throws Exception {
    AffinityHandlerTest.JettyProxy p =
        proxy(AffinityHandler.builder(cookieRouter()).proxyHttp(true).httpMaxRequestBodyBytes(10));
    HttpWire.Reply r =
        wire(p.port())
            .exchange(
                "POST /upload HTTP/1.1\r\nHost: proxy\r\nContent-Length: 11\r\n\r\nhello world");
    assertThat(r.status()).isEqualTo(413);
    assertThat(r.body).isEqualTo("413 " + ErrorAnswer.requestBodyTooLarge(10) + "\n");
    assertThat(r.header("Connection")).isEqualTo("close");
    assertThat(backends).allSatisfy(b -> assertThat(b.requests()).isZero());
  }

  @Test
  void chunkedBodyGrowingAboveTheLimit_answers413() throws Exception {
    AffinityHandlerTest.JettyProxy p =
        proxy(AffinityHandler.builder(cookieRouter()).proxyHttp(true).httpMaxRequestBodyBytes(10));
    HttpWire w = wire(p.port());
    HttpWire.Reply r =
        w.exchange(
            "POST /upload HTTP/1.1\r\nHost: proxy\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    assertThat(r.status()).isEqualTo(413);
    assertThat(r.body).isEqualTo("413 " + ErrorAnswer.requestBodyTooLarge(10) + "\n");
    assertThat(w.closedByPeer()).isTrue();
  }

  @Test
  void backendSilentPastTheResponseTimeout_answers504() throws Exception {
    Router router = userRouter();
    AffinityHandlerTest.JettyProxy p =
        proxy(
            AffinityHandler.builder(router)
                .proxyHttp(true)
                .httpResponseTimeout(Duration.ofMillis(300)));
    String user = userOwnedBy(router, "http-1");
    HttpWire.Reply r = wire(p.port()).exchange(HttpWire.get("/hold", "X-User: " + user));
    assertThat(r.status()).isEqualTo(504);
    assertThat(r.body).isEqualTo("504 backend did not answer in time\n");
    assertThat(backend("http-1").held()).isEqualTo(1);
  }

  // ------------------------------------------------------------------ failover

  @Test
  void connectFailure_isReported_andTheNextCandidateServes() throws Exception {
    Router router = userRouter();
    AffinityHandlerTest.JettyProxy p = proxy(AffinityHandler.builder(router).proxyHttp(true));
    String user = userOwnedBy(router, "http-2");
    backend("http-2").close();
    HttpWire.Reply r = wire(p.port()).exchange(HttpWire.get("/", "X-User: " + user));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body).isIn("backend:http-1", "backend:http-3");
    assertThat(connectFailures).extracting(Backend::id).containsExactly("http-2");
  }

  @Test
  void everyCandidateDown_answers502() throws Exception {
    for (int i = 1; i <= 3; i++) {
      DeadPort dead = DeadPort.reserve();
      closeables.add(dead);
      group.update(Backend.of("http-" + i, "127.0.0.1", dead.port()));
    }
    AffinityHandlerTest.JettyProxy p =
        proxy(AffinityHandler.builder(router().maxFailoverCandidates(2).build()).proxyHttp(true));
    HttpWire.Reply r = wire(p.port()).exchange(HttpWire.get("/"));
    assertThat(r.status()).isEqualTo(502);
    assertThat(r.body).isEqualTo("502 no backend reachable\n");
    assertThat(connectFailures).extracting(Backend::id).containsOnly("http-1", "http-2", "http-3");
  }

  // ------------------------------------------------------------------ headers

  @Test
  void hopByHopFields_areDroppedBothWays_andForwardedHeadersAreOurs() throws Exception {
    AffinityHandlerTest.JettyProxy p =
        proxy(AffinityHandler.builder(cookieRouter()).proxyHttp(true));
    HttpWire w = wire(p.port());
    HttpWire.Reply r =
        w.exchange(
            HttpWire.get(
                "/headers",
                "Connection: keep-alive, X-Secret",
                "X-Secret: 1",
                "Keep-Alive: timeout=5",
                "TE: trailers",
                "X-Forwarded-For: 6.6.6.6",
                "Forwarded: for=6.6.6.6",
                "X-Kept: yes"));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body)
        .contains("Host: proxy\n", "X-Kept: yes\n", "X-Forwarded-For: 127.0.0.1\n")
        .contains("X-Forwarded-Proto: http\n", "Forwarded: for=127.0.0.1;host=proxy;proto=http\n")
        .doesNotContain("X-Secret", "Keep-Alive", "TE:", "6.6.6.6", "Via:", "User-Agent");
    HttpWire.Reply hop = w.exchange(HttpWire.get("/hop"));
    assertThat(hop.header("X-Public")).isEqualTo("visible");
    assertThat(hop.header("X-Private")).as("named by the backend's Connection").isNull();
    assertThat(hop.header("Connection")).isNull();
  }

  // ------------------------------------------------------------------ scope and options

  @Test
  void paths_proxyOnlyThoseOnes_othersGet426() throws Exception {
    AffinityHandlerTest.JettyProxy p =
        proxy(AffinityHandler.builder(cookieRouter()).proxyHttpPaths("/socket.io/"));
    HttpWire w = wire(p.port());
    assertThat(w.exchange(HttpWire.get("/socket.io/?EIO=4&transport=polling")).body)
        .startsWith("backend:");
    HttpWire.Reply other = w.exchange(HttpWire.get("/other"));
    assertThat(other.status()).isEqualTo(426);
  }

  @Test
  void defaultOff_plainRequestsStillGet426() throws Exception {
    AffinityHandlerTest.JettyProxy p = proxy(AffinityHandler.builder(cookieRouter()));
    HttpWire.Reply r = wire(p.port()).exchange(HttpWire.get("/socket.io/"));
    assertThat(r.status()).isEqualTo(426);
    assertThat(backends).allSatisfy(b -> assertThat(b.requests()).isZero());
  }

  @Test
  void theLease_countsTheExchangeAsALiveConnection_untilItEnds() throws Exception {
    Router router = userRouter();
    AffinityHandlerTest.JettyProxy p = proxy(AffinityHandler.builder(router).proxyHttp(true));
    String user = userOwnedBy(router, "http-3");
    HttpWire w = wire(p.port()).send(HttpWire.get("/hold", "X-User: " + user));
    Await.until("the request is held", WAIT, () -> backend("http-3").held() == 1);
    assertThat(group.liveConnections()).containsEntry("http-3", 1);
    backend("http-3").release();
    assertThat(w.read().body).isEqualTo("backend:http-3");
    Await.until("the lease is closed", WAIT, () -> group.liveConnections().get("http-3") == 0);
  }

  @Test
  void proxyHttp_inDecideOnlyMode_isRefused() {
    assertThatThrownBy(
            () -> AffinityHandler.builder(cookieRouter()).decideOnly().proxyHttp(true).build())
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessageContaining("proxyHttp");
  }

  /**
   * Jetty's connector idle timeout (30 s by default) does not cut a long poll whose backend waits
   * longer: the exchange is waiting on the backend, not idle.
   */
  @Test
  void connectorIdleTimeout_doesNotCutALongPoll() throws Exception {
    Router router = userRouter();
    AffinityHandlerTest.JettyProxy p = proxy(AffinityHandler.builder(router).proxyHttp(true));
    ((org.eclipse.jetty.server.ServerConnector) p.server.server().getConnectors()[0])
        .setIdleTimeout(200);
    String user = userOwnedBy(router, "http-1");
    HttpWire poll = wire(p.port()).send(HttpWire.get("/hold", "X-User: " + user));
    Await.until("the poll is held", WAIT, () -> backend("http-1").held() == 1);
    // A barrier instead of a wait: a connection opened now, and quiet, is closed by the idle
    // timeout; the poll, older, is still waiting.
    try (HttpWire quiet = HttpWire.open(p.port())) {
      assertThat(quiet.closedByPeer()).as("a quiet connection hits the idle timeout").isTrue();
    }
    backend("http-1").release();
    HttpWire.Reply r = poll.read();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body).isEqualTo("backend:http-1");
  }

  /**
   * A client that leaves a long poll: Jetty notices a closed connection only when it writes to it
   * (or at the idle timeout), so the exchange ends when the backend answers; the lease is closed
   * then, and nothing escapes.
   */
  @Test
  void clientLeavingALongPoll_endsTheExchangeWhenTheBackendAnswers() throws Exception {
    Router router = userRouter();
    AffinityHandlerTest.JettyProxy p = proxy(AffinityHandler.builder(router).proxyHttp(true));
    String user = userOwnedBy(router, "http-2");
    HttpWire poll = HttpWire.open(p.port()).send(HttpWire.get("/hold", "X-User: " + user));
    Await.until("the poll is held", WAIT, () -> backend("http-2").held() == 1);
    assertThat(group.liveConnections()).containsEntry("http-2", 1);
    poll.close();
    backend("http-2").release();
    Await.until("the lease is closed", WAIT, () -> group.liveConnections().get("http-2") == 0);
    HttpWire.Reply next = wire(p.port()).exchange(HttpWire.get("/", "X-User: " + user));
    assertThat(next.body).as("the proxy serves on").isEqualTo("backend:http-2");
    assertThat(p.escapedExceptions()).isEmpty();
  }

  @Test
  void gracefulStop_cutsStreamingResponses_andRefusesNewRequests() throws Exception {
    Router router = userRouter();
    AffinityHandlerTest.JettyProxy p = proxy(AffinityHandler.builder(router).proxyHttp(true));
    String user = userOwnedBy(router, "http-3");
    HttpWire w = wire(p.port());
    w.send(HttpWire.get("/sse?n=1000000&pad=1000", "X-User: " + user));
    assertThat(w.readHead().status()).isEqualTo(200);
    assertThat(w.nextChunk()).isNotNull();
    Thread stopper = new Thread(p.server::close);
    stopper.start();
    assertThatThrownBy(w::readChunks)
        .as("the stream is cut")
        .isInstanceOf(java.io.UncheckedIOException.class);
    stopper.join(WAIT.toMillis());
    assertThat(stopper.isAlive()).isFalse();
    Await.until("the lease is closed", WAIT, () -> group.liveConnections().get("http-3") == 0);
  }

  @Test
  void bodyRequest_whoseBackendIsDown_goesWholeToTheNextCandidate() throws Exception {
    Router router = userRouter();
    AffinityHandlerTest.JettyProxy p = proxy(AffinityHandler.builder(router).proxyHttp(true));
    String user = userOwnedBy(router, "http-1");
    backend("http-1").close();
    String body = "p".repeat(5000);
    HttpWire.Reply r =
        wire(p.port())
            .exchange(
                "POST /upload HTTP/1.1\r\nHost: proxy\r\nX-User: "
                    + user
                    + "\r\nContent-Length: "
                    + body.length()
                    + "\r\n\r\n"
                    + body);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body).isEqualTo("got:5000");
    assertThat(connectFailures).extracting(Backend::id).containsExactly("http-1");
  }
}

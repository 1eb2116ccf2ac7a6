package dev.affinity.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Outcome;
import dev.affinity.Router;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.internal.http.ErrorAnswer;
import dev.affinity.metrics.RoutingListener;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.CookieAffinity;
import dev.affinity.strategy.CookieKey;
import dev.affinity.strategy.CookieKeys;
import dev.affinity.strategy.RoutingKey;
import dev.affinity.strategy.Selection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plain-HTTP proxy scenarios every adapter must pass (the {@code proxyHttp} path: requests that
 * are not WebSocket upgrades, in scope, proxied to the routed backend), written once. An adapter's
 * test subclasses this with the same hook as {@link AdapterScenarios}:
 *
 * <pre>{@code
 * class NettyHttpTest extends HttpScenarios {
 *   @Override
 *   protected ProxyHandle startProxy(Router router, ProxySettings settings) {
 *     // as for AdapterScenarios, also mapping settings.http() to proxyHttp(true) /
 *     // proxyHttpPaths(...) and the httpXxx() settings to the builder's httpXxx(...) methods
 *   }
 * }
 * }</pre>
 *
 * <p>The contract the scenarios check:
 *
 * <ul>
 *   <li>a request in scope goes through {@code Router.select} like a handshake; the first response
 *       carries the decision's {@code Set-Cookie} (next to the backend's own), and later requests
 *       with the cookie go to the same backend;
 *   <li>HTTP/1.1 keep-alive on both sides: sequential requests on one client connection reuse
 *       pooled backend connections;
 *   <li>hop-by-hop fields (RFC 9110 section 7.6.1, {@code HopByHop}) are removed both ways;
 *       forwarded headers are replaced (or appended to from a trusted proxy) as for handshakes;
 *   <li>bodies stream both ways, chunked or with a length;
 *   <li>out of scope, a request gets what it got before the option (426 here);
 *   <li>errors are {@code ErrorAnswer}s with {@code Connection: close}: NO_BACKEND 503 {@code no
 *       backend available}, every candidate refused 502 {@code no backend reachable}, no response
 *       head within {@link ProxySettings#httpResponseTimeout()} 504 {@code backend did not answer
 *       in time}, a body over {@link ProxySettings#httpMaxRequestBodyBytes()} 413 {@code request
 *       body too large (limit <n> bytes)} (the backend never sees that request);
 *   <li>a refused connect is reported ({@code Router.reportConnectFailure}) and the next candidate
 *       serves the request.
 * </ul>
 *
 * <p>Backends are three {@link HttpBackend}s ({@code http-1}..{@code http-3}) started fresh for
 * each scenario.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
public abstract class HttpScenarios {
  /** How long scenario waits last at most; generous because CI machines are loaded. */
  protected static final Duration WAIT = Duration.ofSeconds(30);

  /** The settings most scenarios use: {@link ProxySettings#DEFAULTS} with {@code --http on}. */
  protected static final ProxySettings HTTP_ON = ProxySettings.DEFAULTS.withHttp("on");

  private static final CookieKey COOKIE_KEY =
      CookieKey.of(1, "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII));

  private final List<HttpBackend> backends = new ArrayList<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final List<Backend> connectFailures = new CopyOnWriteArrayList<>();
  private BackendGroup group = BackendGroup.create();

  /**
   * Starts the adapter under test as a proxy on 127.0.0.1 (ephemeral port) that routes with {@code
   * router} and applies {@code settings}, including {@link ProxySettings#http()} and the other
   * {@code http*} settings. Called once or more per scenario; the scenario closes each handle.
   *
   * @throws Exception if the proxy cannot start (the scenario fails)
   */
  protected abstract ProxyHandle startProxy(Router router, ProxySettings settings) throws Exception;

  @BeforeEach
  void startBackends() {
    List<Backend> members = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      HttpBackend b = HttpBackend.start("http-" + i);
      backends.add(b);
      members.add(Backend.of(b.id(), "127.0.0.1", b.port()));
    }
    group = BackendGroup.of(members);
  }

  @AfterEach
  void stopEverything() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
    for (HttpBackend b : backends) {
      b.close();
    }
  }

  /** The group over the three backends of this scenario. */
  protected final BackendGroup group() {
    return group;
  }

  /** The backend announcing {@code id}. */
  protected final HttpBackend backend(String id) {
    for (HttpBackend b : backends) {
      if (b.id().equals(id)) {
        return b;
      }
    }
    throw new AssertionError("no backend " + id);
  }

  /** A router builder over {@link #group()} whose listener records connect failures. */
  protected final Router.Builder router() {
    return Router.builder(group)
        .listener(
            new RoutingListener() {
              @Override
              public void connectFailed(Backend backend, Throwable cause) {
                connectFailures.add(backend);
              }
            });
  }

  /** The cookie strategy with a fixed test key; the fallback rotates, so only the cookie sticks. */
  protected final Router cookieRouter() {
    return router()
        .strategy(
            AffinityStrategy.cookie(CookieAffinity.builder(CookieKeys.of(COOKIE_KEY)).build()))
        .fallback(AffinityStrategy.roundRobin())
        .build();
  }

  /** Starts a proxy and closes it after the scenario. */
  protected final ProxyHandle proxy(Router router, ProxySettings settings) throws Exception {
    ProxyHandle p = startProxy(router, settings);
    closeables.add(p);
    return p;
  }

  /** Something closed after the scenario. */
  protected final <T extends AutoCloseable> T closeLater(T closeable) {
    closeables.add(closeable);
    return closeable;
  }

  // ---------------------------------------------------------------- affinity

  /** A plain GET is proxied, and its response carries the affinity cookie. */
  @Test
  void plainGet_isProxied_andTheFirstResponseCarriesTheAffinityCookie() throws Exception {
    ProxyHandle proxy = proxy(cookieRouter(), HTTP_ON);
    Exchange e = exchange(proxy, get("/hello?x=1"));
    assertThat(e.head().status()).as(e.toString()).isEqualTo(200);
    String id = e.backend();
    assertThat(e.bodyText()).isEqualTo(id);
    assertThat(e.affinityCookie()).as("the decision's cookie on the first response").isNotNull();
    HttpBackend.Request seen = backend(id).lastRequest();
    assertThat(seen.method()).isEqualTo("GET");
    assertThat(seen.target()).as("forwarded in origin-form, query kept").isEqualTo("/hello?x=1");
    assertThat(seen.header("Host")).isEqualTo("127.0.0.1");
  }

  /**
   * With the cookie, GETs and POSTs on fresh connections all reach the backend that set it; without
   * it the fallback rotates (which shows this scenario can fail).
   */
  @Test
  void requestsWithTheCookie_stickToItsBackend_withoutItTheyRotate() throws Exception {
    ProxyHandle proxy = proxy(cookieRouter(), HTTP_ON);
    Exchange first = exchange(proxy, get("/"));
    String id = first.backend();
    String cookie = first.affinityCookie();
    assertThat(cookie).isNotNull();
    for (int i = 0; i < 10; i++) {
      Exchange g = exchange(proxy, get("/page/" + i, "Cookie: " + cookie));
      assertThat(g.backend()).as("GET %d", i).isEqualTo(id);
      byte[] body = ("form=" + i).getBytes(StandardCharsets.UTF_8);
      Exchange p = exchange(proxy, post("/echo", body, "Cookie: " + cookie));
      assertThat(p.backend()).as("POST %d", i).isEqualTo(id);
      assertThat(p.body()).isEqualTo(body);
    }
    Set<String> withoutCookie = new HashSet<>();
    for (int i = 0; i < 6; i++) {
      withoutCookie.add(exchange(proxy, get("/")).backend());
    }
    assertThat(withoutCookie).as("round-robin fallback without the cookie").hasSizeGreaterThan(1);
  }

  /** The backend's own {@code Set-Cookie} is relayed next to the affinity cookie. */
  @Test
  void backendsOwnSetCookie_isKept_nextToTheAffinityCookie() throws Exception {
    ProxyHandle proxy = proxy(cookieRouter(), HTTP_ON);
    Exchange e = exchange(proxy, get("/set-cookie"));
    assertThat(e.head().headers("Set-Cookie")).contains("app=1; Path=/");
    assertThat(e.affinityCookie()).isNotNull();
  }

  /**
   * Keep-alive on both sides: 1,000 sequential requests on one client connection are served over at
   * most 2 backend connections (one, plus one spare if the pool replaced a connection).
   */
  @Test
  void keepAlive_thousandSequentialRequestsOnOneConnection_useAtMostTwoBackendConnections()
      throws Exception {
    ProxyHandle proxy = proxy(cookieRouter(), HTTP_ON);
    try (RawConnection c = RawConnection.open(proxy.port())) {
      c.readTimeout(WAIT);
      Exchange first = exchange(c, get("/0"));
      String id = first.backend();
      String cookie = first.affinityCookie();
      assertThat(cookie).isNotNull();
      for (int i = 1; i < 1000; i++) {
        Exchange e = exchange(c, get("/" + i, "Cookie: " + cookie));
        assertThat(e.head().status()).as("request %d: %s", i, e).isEqualTo(200);
        assertThat(e.bodyText()).as("request %d", i).isEqualTo(id);
      }
      assertThat(backend(id).requests()).hasSize(1000);
    }
    int accepted = 0;
    for (HttpBackend b : backends) {
      accepted += b.accepted();
    }
    assertThat(accepted).as("backend connections accepted for 1,000 requests").isBetween(1, 2);
  }

  // ---------------------------------------------------------------- headers

  /** Hop-by-hop fields (RFC 9110 section 7.6.1) are not forwarded, in either direction. */
  @Test
  void hopByHopFields_areRemovedBothWays() throws Exception {
    ProxyHandle proxy = proxy(router().build(), HTTP_ON);
    Exchange e =
        exchange(
            proxy,
            get(
                "/hop",
                "Connection: keep-alive, X-Hop",
                "X-Hop: secret",
                "Keep-Alive: timeout=5",
                "Proxy-Connection: keep-alive",
                "X-Kept: yes"));
    assertThat(e.head().status()).as(e.toString()).isEqualTo(200);
    HttpBackend.Request seen = backend(e.backend()).lastRequest();
    assertThat(seen.header("X-Kept")).as(seen.toString()).isEqualTo("yes");
    assertThat(seen.headers("X-Hop")).as(seen.toString()).isEmpty();
    assertThat(seen.headers("Keep-Alive")).as(seen.toString()).isEmpty();
    assertThat(seen.headers("Proxy-Connection")).as(seen.toString()).isEmpty();
    assertThat(String.join(",", seen.headers("Connection")).toLowerCase(java.util.Locale.ROOT))
        .as("the client's Connection options are not forwarded")
        .doesNotContain("x-hop");
    assertThat(e.head().headers("X-Backend-Hop")).as(e.toString()).isEmpty();
    assertThat(e.head().headers("Keep-Alive")).as(e.toString()).isEmpty();
    assertThat(String.join(",", e.head().headers("Connection")).toLowerCase(java.util.Locale.ROOT))
        .doesNotContain("x-backend-hop");
  }

  private static final String[] SPOOFED_FORWARDED = {
    "X-Forwarded-For: 6.6.6.6",
    "X-Forwarded-Proto: https",
    "X-Forwarded-Host: bank.example",
    "X-Forwarded-Port: 443",
    "Forwarded: for=6.6.6.6;proto=https"
  };

  /** An untrusted client's forwarded headers are all replaced with what this hop saw. */
  @Test
  void forwardedHeaders_fromAnUntrustedClient_areAllReplaced() throws Exception {
    ProxyHandle proxy = proxy(router().build(), HTTP_ON);
    Exchange e = exchange(proxy, get("/", SPOOFED_FORWARDED));
    assertForwarded(
        backend(e.backend()).lastRequest(),
        "127.0.0.1",
        "http",
        "127.0.0.1",
        Integer.toString(proxy.port()),
        "for=127.0.0.1;host=127.0.0.1;proto=http");
  }

  /** From a trusted proxy the forwarded headers are kept, and this hop's entries appended. */
  @Test
  void forwardedHeaders_fromATrustedProxy_areKeptAndAppended() throws Exception {
    ProxyHandle proxy = proxy(router().build(), HTTP_ON.withTrustedProxies("127.0.0.1/32"));
    Exchange e = exchange(proxy, get("/", SPOOFED_FORWARDED));
    assertForwarded(
        backend(e.backend()).lastRequest(),
        "6.6.6.6, 127.0.0.1",
        "https",
        "bank.example",
        "443",
        "for=6.6.6.6;proto=https, for=127.0.0.1;host=127.0.0.1;proto=http");
  }

  private static void assertForwarded(
      HttpBackend.Request seen,
      String xff,
      String proto,
      String host,
      String port,
      String forwarded) {
    assertThat(seen.headers("X-Forwarded-For")).as(seen.toString()).containsExactly(xff);
    assertThat(seen.headers("X-Forwarded-Proto")).as(seen.toString()).containsExactly(proto);
    assertThat(seen.headers("X-Forwarded-Host")).as(seen.toString()).containsExactly(host);
    assertThat(seen.headers("X-Forwarded-Port")).as(seen.toString()).containsExactly(port);
    assertThat(seen.headers("Forwarded")).as(seen.toString()).containsExactly(forwarded);
  }

  // ---------------------------------------------------------------- bodies

  /** A chunked request body reaches the backend whole, and comes back in the echo. */
  @Test
  void chunkedRequestBody_reachesTheBackendWhole() throws Exception {
    ProxyHandle proxy = proxy(router().build(), HTTP_ON);
    String request =
        String.join(
            "\r\n",
            "POST /echo HTTP/1.1",
            "Host: 127.0.0.1",
            "Transfer-Encoding: chunked",
            "",
            "5",
            "hello",
            "1;ext=1",
            " ",
            "6",
            "world!",
            "0",
            "",
            "");
    Exchange e = exchange(proxy, request);
    assertThat(e.head().status()).as(e.toString()).isEqualTo(200);
    assertThat(new String(backend(e.backend()).lastRequest().body(), StandardCharsets.UTF_8))
        .isEqualTo("hello world!");
    assertThat(e.bodyText()).isEqualTo("hello world!");
  }

  /** A chunked response of 256 KiB in 64 chunks is relayed whole and in order. */
  @Test
  void chunkedResponse_isRelayedWholeAndInOrder() throws Exception {
    ProxyHandle proxy = proxy(router().build(), HTTP_ON);
    Exchange e = exchange(proxy, get("/chunked?n=64&size=4096"));
    assertThat(e.head().status()).as(e.toString()).isEqualTo(200);
    byte[] body = e.body();
    assertThat(body).hasSize(64 * 4096);
    for (int i = 0; i < body.length; i++) {
      if (body[i] != (byte) ('a' + i % 26)) {
        throw new AssertionError("byte " + i + " is " + body[i]);
      }
    }
  }

  /** A body of exactly the limit passes; one byte more is 413 and never reaches a backend. */
  @Test
  void requestBodyOverTheLimit_answers413_andNeverReachesTheBackend() throws Exception {
    ProxyHandle proxy = proxy(router().build(), HTTP_ON.withHttpMaxRequestBodyBytes(1024));
    Exchange ok = exchange(proxy, post("/echo", new byte[1024]));
    assertThat(ok.head().status()).as(ok.toString()).isEqualTo(200);
    assertThat(ok.body()).hasSize(1024);
    int before = totalRequests();
    assertErrorAnswer(
        proxy, post("/echo", new byte[1025]), 413, ErrorAnswer.requestBodyTooLarge(1024));
    assertThat(totalRequests()).as("requests the backends saw").isEqualTo(before);
  }

  // ---------------------------------------------------------------- scope

  /**
   * Out of scope a request keeps the answer it had without the option (426 for a plain GET), and
   * the scope matches whole path segments.
   */
  @Test
  void outOfScopePath_keepsTodaysAnswer_inScopeIsProxied() throws Exception {
    ProxyHandle proxy = proxy(router().build(), ProxySettings.DEFAULTS.withHttp("/api"));
    assertThat(exchange(proxy, get("/api/users")).head().status()).isEqualTo(200);
    assertThat(exchange(proxy, get("/api")).head().status()).isEqualTo(200);
    for (String path : List.of("/other", "/apix", "/")) {
      try (RawConnection c = RawConnection.open(proxy.port())) {
        c.readTimeout(WAIT);
        c.send(get(path));
        RawConnection.Response r = c.readResponseHead();
        assertThat(r.status()).as(path + ": " + r).isEqualTo(426);
        assertThat(new String(c.readToEnd(1024), StandardCharsets.UTF_8))
            .isEqualTo("426 WebSocket upgrade required\n");
      }
    }
    assertThat(totalRequests()).isEqualTo(2);
  }

  /** Without the option (the default) nothing is proxied: a plain GET still gets 426. */
  @Test
  void httpOff_isTheDefault_andKeepsTodaysAnswer() throws Exception {
    ProxyHandle proxy = proxy(router().build(), ProxySettings.DEFAULTS);
    try (RawConnection c = RawConnection.open(proxy.port())) {
      c.readTimeout(WAIT);
      c.send(get("/api/users"));
      assertThat(c.readResponseHead().status()).isEqualTo(426);
    }
    assertThat(totalRequests()).isZero();
  }

  // ---------------------------------------------------------------- failures

  /** No backend up: 503 {@code no backend available}. */
  @Test
  void noBackendUp_answers503() throws Exception {
    ProxyHandle proxy = proxy(router().build(), HTTP_ON);
    group.markDown("http-1");
    group.markDown("http-2");
    group.markDown("http-3");
    assertErrorAnswer(proxy, get("/"), 503, "no backend available");
  }

  /** A refused connect is reported and the next candidate serves the request. */
  @Test
  void backendRefuses_isReported_andTheNextCandidateServes() throws Exception {
    Router router =
        router().strategy(AffinityStrategy.rendezvous(RoutingKey.header("X-User"))).build();
    ProxyHandle proxy = proxy(router, HTTP_ON);
    String user = userOwnedBy(router, "http-2");
    backend("http-2").close();
    Exchange e = exchange(proxy, get("/", "X-User: " + user));
    assertThat(e.head().status()).as(e.toString()).isEqualTo(200);
    assertThat(e.backend()).isIn("http-1", "http-3");
    assertThat(connectFailures).extracting(Backend::id).containsExactly("http-2");
  }

  /** Every candidate refuses: 502 {@code no backend reachable}. */
  @Test
  void everyCandidateRefuses_answers502() throws Exception {
    for (int i = 1; i <= 3; i++) {
      DeadPort dead = closeLater(DeadPort.reserve());
      group.update(Backend.of("http-" + i, "127.0.0.1", dead.port()));
    }
    ProxyHandle proxy = proxy(router().maxFailoverCandidates(2).build(), HTTP_ON);
    assertErrorAnswer(proxy, get("/"), 502, ErrorAnswer.NO_BACKEND_REACHABLE);
    assertThat(connectFailures).extracting(Backend::id).containsOnly("http-1", "http-2", "http-3");
  }

  /** A backend that takes the request and never answers: 504 after the response timeout. */
  @Test
  void noResponseHeadInTime_answers504() throws Exception {
    ProxyHandle proxy =
        proxy(router().build(), HTTP_ON.withHttpResponseTimeout(Duration.ofMillis(500)));
    assertErrorAnswer(proxy, get("/hang"), 504, ErrorAnswer.BACKEND_TIMEOUT);
  }

  // ---------------------------------------------------------------- Socket.IO

  /** Three Socket.IO backends ({@code sio-1}..{@code sio-3}), killed after the scenario. */
  private List<SocketIo.Backend> socketIoBackends() {
    List<SocketIo.Backend> out = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      out.add(closeLater(SocketIo.backend("sio-" + i)));
    }
    return out;
  }

  private Router.Builder socketIoRouter(List<SocketIo.Backend> sio) {
    List<Backend> members = new ArrayList<>();
    for (SocketIo.Backend b : sio) {
      members.add(Backend.of(b.id(), "127.0.0.1", b.port()));
    }
    return Router.builder(BackendGroup.of(members))
        .listener(
            new RoutingListener() {
              @Override
              public void connectFailed(Backend backend, Throwable cause) {
                connectFailures.add(backend);
              }
            });
  }

  private static Router cookieRouter(Router.Builder builder) {
    return builder
        .strategy(
            AffinityStrategy.cookie(CookieAffinity.builder(CookieKeys.of(COOKIE_KEY)).build()))
        .fallback(AffinityStrategy.roundRobin())
        .build();
  }

  private static int sessionIdUnknown(List<SocketIo.Backend> sio) {
    int n = 0;
    for (SocketIo.Backend b : sio) {
      n += b.sessionIdUnknown();
    }
    return n;
  }

  /**
   * 200 real {@code socket.io-client} clients with their defaults (polling first) through the proxy
   * with cookie affinity: no backend ever answers "Session ID unknown", every client upgrades to
   * WebSocket on the backend that served its polling, and all 20 echoes of each come back from that
   * backend.
   */
  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void socketIo_200ClientsWithDefaults_stayOnTheirPollingBackend_noSessionIdUnknown()
      throws Exception {
    List<SocketIo.Backend> sio = socketIoBackends();
    ProxyHandle proxy =
        proxy(cookieRouter(socketIoRouter(sio)), ProxySettings.DEFAULTS.withHttp("/socket.io"));
    List<SocketIo.ClientResult> results;
    try (SocketIo.Clients run =
        SocketIo.clients(proxy.port(), 200, 20, Duration.ofSeconds(90), false)) {
      results = run.awaitDone(Duration.ofSeconds(150));
    }
    assertThat(results).hasSize(200);
    Set<String> used = new HashSet<>();
    for (SocketIo.ClientResult r : results) {
      assertThat(r.pollingBackend()).as("hello over polling: %s", r).isNotNull();
      assertThat(r.upgraded()).as("upgraded: %s", r).isTrue();
      assertThat(r.upgradedBackend())
          .as("upgraded where it polled: %s", r)
          .isEqualTo(r.pollingBackend());
      assertThat(r.echoes()).as("echoes: %s", r).isEqualTo(20);
      assertThat(r.echoBackends()).as("echo backends: %s", r).containsExactly(r.pollingBackend());
      assertThat(r.connectErrors()).as("connect errors: %s", r).isZero();
      assertThat(r.disconnects()).as("disconnects: %s", r).isZero();
      used.add(r.pollingBackend());
    }
    assertThat(sessionIdUnknown(sio)).as("Session ID unknown answers").isZero();
    assertThat(used).as("new clients spread over the backends").hasSize(3);
  }

  /**
   * The same clients through plain round robin without the cookie (a rotating strategy): backends
   * answer "Session ID unknown" and clients fail, the failure the feature prevents. This shows the
   * scenario above can fail.
   */
  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void socketIo_plainRoundRobinWithoutCookie_getsSessionIdUnknown() throws Exception {
    List<SocketIo.Backend> sio = socketIoBackends();
    java.util.concurrent.atomic.AtomicLong next = new java.util.concurrent.atomic.AtomicLong();
    AffinityStrategy rotating =
        new AffinityStrategy() {
          @Override
          public Selection select(RoutingRequest request, Membership membership) {
            Member[] up = membership.upMembers();
            if (up.length == 0) {
              return Selection.noBackend("none up");
            }
            Member m = up[(int) Math.floorMod(next.getAndIncrement(), (long) up.length)];
            return Selection.chosen(m, Outcome.FIRST_ASSIGNMENT, "rotating");
          }

          @Override
          public String name() {
            return "rotating";
          }
        };
    ProxyHandle proxy =
        proxy(
            socketIoRouter(sio).strategy(rotating).build(),
            ProxySettings.DEFAULTS.withHttp("/socket.io"));
    List<SocketIo.ClientResult> results;
    try (SocketIo.Clients run =
        SocketIo.clients(proxy.port(), 200, 20, Duration.ofSeconds(15), false)) {
      results = run.awaitDone(Duration.ofSeconds(90));
    }
    long failed =
        results.stream()
            .filter(
                r ->
                    !r.upgraded()
                        || r.echoes() < 20
                        || r.connectErrors() > 0
                        || r.disconnects() > 0
                        || !java.util.Objects.equals(r.upgradedBackend(), r.pollingBackend()))
            .count();
    assertThat(sessionIdUnknown(sio)).as("Session ID unknown answers").isPositive();
    assertThat(failed).as("clients that did not get a clean session").isPositive();
  }

  /**
   * A killed backend: its clients are disconnected and reconnect, with the client's default retry,
   * to a live backend with a new session (acknowledged by that backend); the other clients see no
   * disconnect.
   */
  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void socketIo_killedBackend_itsClientsReconnectToALiveOne_othersSeeNothing() throws Exception {
    List<SocketIo.Backend> sio = socketIoBackends();
    ProxyHandle proxy =
        proxy(cookieRouter(socketIoRouter(sio)), ProxySettings.DEFAULTS.withHttp("/socket.io"));
    try (SocketIo.Clients run =
        SocketIo.clients(proxy.port(), 60, 2, Duration.ofSeconds(60), true)) {
      List<SocketIo.ClientResult> results = run.awaitDone(Duration.ofMinutes(2));
      assertThat(results).hasSize(60).allMatch(r -> r.echoes() == 2 && r.upgraded());
      String victim = "sio-2";
      Set<Integer> moved = new HashSet<>();
      for (SocketIo.ClientResult r : results) {
        if (victim.equals(r.pollingBackend())) {
          moved.add(r.client());
        }
      }
      assertThat(moved).as("clients on %s", victim).isNotEmpty();
      sio.get(1).kill();
      awaitTrue(
          () -> reconnected(run.reconnects(), victim).containsAll(moved),
          "every client of " + victim + " reconnected to a live backend");
      for (com.fasterxml.jackson.databind.JsonNode r : run.reconnects()) {
        assertThat(r.path("backend").asText()).as("%s", r).isNotEqualTo(victim);
        // The client's defaults retry after about 1 s, 2 s, 4 s (+-50 %): the first tries suffice.
        assertThat(r.path("attempt").asInt()).as("reconnection attempt: %s", r).isBetween(1, 3);
        assertThat(r.path("echo").asText())
            .as("new session answers: %s", r)
            .isEqualTo(r.path("backend").asText());
      }
      for (com.fasterxml.jackson.databind.JsonNode d : run.disconnects()) {
        assertThat(moved)
            .as("only %s's clients were disconnected: %s", victim, d)
            .contains(d.path("client").asInt());
      }
    }
  }

  private static Set<Integer> reconnected(
      List<com.fasterxml.jackson.databind.JsonNode> reconnects, String victim) {
    Set<Integer> out = new HashSet<>();
    for (com.fasterxml.jackson.databind.JsonNode r : reconnects) {
      if (!victim.equals(r.path("backend").asText()) && r.path("echo").isTextual()) {
        out.add(r.path("client").asInt());
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- SSE

  /** 1,000 server-sent events through the proxy arrive complete and in order (raw HTTP client). */
  @Test
  void sse_thousandEvents_arriveCompleteAndInOrder() throws Exception {
    ProxyHandle proxy = proxy(cookieRouter(), HTTP_ON);
    Exchange e = exchange(proxy, get("/sse?n=1000", "Accept: text/event-stream"));
    assertThat(e.head().status()).as(e.toString()).isEqualTo(200);
    assertThat(e.head().header("Content-Type")).isEqualTo("text/event-stream");
    StringBuilder expected = new StringBuilder();
    for (int i = 0; i < 1000; i++) {
      expected.append("id: ").append(i).append("\ndata: ").append(i).append("\n\n");
    }
    assertThat(e.bodyText()).isEqualTo(expected.toString());
  }

  /**
   * 1,000 server-sent events through the proxy reach an {@code EventSource} in headless Chromium
   * complete and in order (the page and the stream both come through the proxy). Skipped without
   * Chromium unless {@code AFFINITY_REQUIRE_BROWSER=1}.
   */
  @Test
  void sse_thousandEventsInChromium_arriveCompleteAndInOrder(@TempDir Path tmp) throws Exception {
    Path chromium = HeadlessChromium.findOrSkip();
    ProxyHandle proxy = proxy(cookieRouter(), HTTP_ON);
    try (HeadlessChromium browser = HeadlessChromium.launch(chromium, tmp, 800, 600)) {
      browser.navigate("http://127.0.0.1:" + proxy.port() + "/sse-page?n=1000");
      String state =
          "JSON.stringify({n: window.events && window.events.length, errors: window.sseErrors})";
      browser.waitFor("window.sseDone === true", WAIT, state);
      assertThat(browser.evaluate("window.events.length").asInt()).isEqualTo(1000);
      assertThat(browser.evaluate("window.events.every((d, i) => d === String(i))").asBoolean())
          .as("in order")
          .isTrue();
      assertThat(browser.evaluate("window.sseErrors").asInt()).isZero();
    }
  }

  /**
   * Back-pressure: a client that reads nothing stalls the backend's writes instead of growing the
   * proxy's memory. The backend streams events of about 4 KiB without end; the client's socket has
   * a 16 KiB receive buffer and is not read. The backend's written byte count must stop growing
   * below a bound made of what the kernels may buffer on the way, plus 8 MiB for the proxy:
   *
   * <ul>
   *   <li>the client's receive buffer (set, so at most twice 16 KiB as Linux doubles it);
   *   <li>the proxy's send buffer towards the client and the backend's send buffer (each at most
   *       {@code net.ipv4.tcp_wmem}'s maximum) and the proxy's receive buffer from the backend (at
   *       most {@code net.ipv4.tcp_rmem}'s maximum);
   *   <li>8 MiB for what the proxy holds in user space (an adapter's outbound buffer stops reading
   *       at a high-water mark of tens of KiB; 8 MiB leaves room for pooled read buffers).
   * </ul>
   *
   * A proxy that reads without back-pressure keeps the backend writing at loopback speed, past any
   * such bound, and fails. Reading again afterwards resumes the stream, which shows it was a stall
   * (reading at most the bound: what the buffers on the way can hold).
   */
  @Test
  void sse_slowReader_stallsTheBackend_andTheProxyBuffersABoundedAmount() throws Exception {
    ProxyHandle proxy = proxy(cookieRouter(), HTTP_ON);
    long bound = 2L * 16 * 1024 + 2 * maxOf("tcp_wmem") + maxOf("tcp_rmem") + (8L << 20);
    try (RawConnection c = RawConnection.open(proxy.port(), 16 * 1024)) {
      c.readTimeout(WAIT);
      c.send(get("/sse?n=-1&pad=4000"));
      HttpBackend sse = awaitSseBackend();
      long stalled = awaitStall(sse, bound);
      assertThat(stalled)
          .as("bytes the backend wrote to a client that reads nothing (bound %d)", bound)
          .isPositive()
          .isLessThan(bound);
      RawConnection.Response head = c.readResponseHead();
      assertThat(head.status()).isEqualTo(200);
      // Reading drains the buffers on the way back to the backend, whose writes then go on.
      long read = 0;
      while (sse.sseBytesWritten() <= stalled) {
        assertThat(read)
            .as("bytes read without the backend writing again (stalled at %d)", stalled)
            .isLessThan(bound);
        read += c.readExactly(64 * 1024).length;
      }
      assertThat(sse.sseBytesWritten())
          .as("the stream resumes once the client reads")
          .isGreaterThan(stalled);
    }
  }

  private HttpBackend awaitSseBackend() {
    awaitTrue(
        () -> backends.stream().anyMatch(b -> b.sseBytesWritten() > 0), "an SSE stream started");
    for (HttpBackend b : backends) {
      if (b.sseBytesWritten() > 0) {
        return b;
      }
    }
    throw new AssertionError("no SSE stream");
  }

  /**
   * Waits until the backend's SSE byte count stays the same over 20 looks 100 ms apart (2 s without
   * progress), and returns it; fails once it passes {@code bound} or after {@link #WAIT}.
   */
  private static long awaitStall(HttpBackend b, long bound) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    long last = -1;
    int same = 0;
    while (System.nanoTime() < deadline) {
      long now = b.sseBytesWritten();
      if (now >= bound) {
        throw new AssertionError("the backend wrote " + now + " bytes, past the bound " + bound);
      }
      same = now == last ? same + 1 : 0;
      if (same >= 20) {
        return now;
      }
      last = now;
      Thread.sleep(100); // polling a counter that has no change notification
    }
    throw new AssertionError("the backend never stalled: " + b.sseBytesWritten() + " bytes");
  }

  /** The maximum (third) value of {@code /proc/sys/net/ipv4/<name>}, or 6 MiB if unreadable. */
  private static long maxOf(String name) {
    try {
      // Line by line: procfs reports a size of 0, and Files.readString read only "4" of
      // "4096 16384 4194304" here (JDK 17), which made the bound 8 MiB + 12 bytes.
      String[] v =
          String.join(" ", java.nio.file.Files.readAllLines(Path.of("/proc/sys/net/ipv4/" + name)))
              .trim()
              .split("\\s+", -1);
      return Long.parseLong(v[v.length - 1]);
    } catch (java.io.IOException | RuntimeException e) {
      return 6L << 20;
    }
  }

  /** Waits up to {@link #WAIT} until {@code condition} holds ({@link Await#until}). */
  protected static void awaitTrue(java.util.function.BooleanSupplier condition, String what) {
    Await.until(what, WAIT, condition);
  }

  // ---------------------------------------------------------------- helpers

  /** The request head of a GET for {@code target} with {@code Host: 127.0.0.1} and extra lines. */
  protected static String get(String target, String... extraHeaderLines) {
    StringBuilder sb = new StringBuilder("GET ").append(target).append(" HTTP/1.1\r\n");
    sb.append("Host: 127.0.0.1\r\n");
    for (String line : extraHeaderLines) {
      sb.append(line).append("\r\n");
    }
    return sb.append("\r\n").toString();
  }

  /** A POST of {@code body} (with {@code Content-Length}) as ISO-8859-1 text. */
  protected static String post(String target, byte[] body, String... extraHeaderLines) {
    StringBuilder sb = new StringBuilder("POST ").append(target).append(" HTTP/1.1\r\n");
    sb.append("Host: 127.0.0.1\r\n");
    sb.append("Content-Length: ").append(body.length).append("\r\n");
    for (String line : extraHeaderLines) {
      sb.append(line).append("\r\n");
    }
    sb.append("\r\n");
    return sb + new String(body, StandardCharsets.ISO_8859_1);
  }

  /** Sends {@code request} on a new connection and reads the response (head and body). */
  protected static Exchange exchange(ProxyHandle proxy, String request) {
    try (RawConnection c = RawConnection.open(proxy.port())) {
      c.readTimeout(WAIT);
      return exchange(c, request);
    }
  }

  /** Sends {@code request} on {@code c} and reads the response (head and body). */
  protected static Exchange exchange(RawConnection c, String request) {
    c.send(request);
    RawConnection.Response head = c.readResponseHead();
    return new Exchange(head, c.readBody(head, 16 << 20));
  }

  /**
   * Sends {@code request} and expects the {@code ErrorAnswer} for {@code status} and {@code
   * message}: the status, {@code Connection: close}, the text content type, the exact body, then
   * the connection closed.
   */
  protected static void assertErrorAnswer(
      ProxyHandle proxy, String request, int status, String message) {
    try (RawConnection c = RawConnection.open(proxy.port())) {
      c.readTimeout(WAIT);
      c.send(request);
      RawConnection.Response r = c.readResponseHead();
      assertThat(r.status()).as(r.toString()).isEqualTo(status);
      assertThat(r.header("Connection")).as(r.toString()).isEqualToIgnoringCase("close");
      assertThat(r.header("Content-Type")).as(r.toString()).isEqualTo(ErrorAnswer.CONTENT_TYPE);
      assertThat(new String(c.readBody(r, 4096), StandardCharsets.UTF_8))
          .isEqualTo(new String(ErrorAnswer.body(status, message), StandardCharsets.UTF_8));
      assertThat(c.awaitClosed()).as("closed after %d", status).isTrue();
    }
  }

  /** A user name that {@code router}'s {@code X-User} rendezvous strategy puts on {@code owner}. */
  protected static String userOwnedBy(Router router, String owner) {
    for (int i = 0; i < 10_000; i++) {
      String user = "user-" + i;
      RoutingRequest r =
          RoutingRequest.builder()
              .remoteAddress("127.0.0.1", 1)
              .path("/")
              .header("X-User", user)
              .build();
      if (router.select(r).backend().id().equals(owner)) {
        return user;
      }
    }
    throw new AssertionError("no user owned by " + owner);
  }

  private int totalRequests() {
    int n = 0;
    for (HttpBackend b : backends) {
      n += b.requests().size();
    }
    return n;
  }

  /** A response as the client read it. */
  protected static final class Exchange {
    private final RawConnection.Response head;
    private final byte[] body;

    Exchange(RawConnection.Response head, byte[] body) {
      this.head = head;
      this.body = body;
    }

    /** The response head. */
    public RawConnection.Response head() {
      return head;
    }

    /** The body, de-chunked. */
    public byte[] body() {
      return body.clone();
    }

    /** The body as UTF-8 text. */
    public String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }

    /** The backend that answered ({@code X-Backend}). */
    public String backend() {
      String id = head.header("X-Backend");
      if (id == null) {
        throw new AssertionError("no X-Backend in " + head);
      }
      return id;
    }

    /** The affinity cookie ({@code AFFINITY=value}) the response sets, or null. */
    public @Nullable String affinityCookie() {
      for (String c : head.headers("Set-Cookie")) {
        if (c.startsWith(CookieAffinity.DEFAULT_NAME + "=")) {
          int semi = c.indexOf(';');
          return semi < 0 ? c : c.substring(0, semi);
        }
      }
      return null;
    }

    @Override
    public String toString() {
      return head + " (" + body.length + " body bytes)";
    }
  }
}

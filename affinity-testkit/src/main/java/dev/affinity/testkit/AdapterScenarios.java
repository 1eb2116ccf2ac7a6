package dev.affinity.testkit;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import dev.affinity.Router;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.Membership;
import dev.affinity.client.ClientAddressResolver;
import dev.affinity.client.ForwardedHeader;
import dev.affinity.lifecycle.ConnectionLifecycle;
import dev.affinity.metrics.RoutingListener;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.CookieAffinity;
import dev.affinity.strategy.CookieKey;
import dev.affinity.strategy.CookieKeys;
import dev.affinity.strategy.JwtAffinity;
import dev.affinity.strategy.JwtAlgorithm;
import dev.affinity.strategy.RoutingKey;
import dev.affinity.strategy.Selection;
import dev.affinity.strategy.TokenSource;
import io.netty.handler.codec.http.FullHttpRequest;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The end-to-end scenarios every adapter must pass, written once. An adapter's test subclasses this
 * and implements {@link #startProxy(Router, ProxySettings)}; JUnit runs every scenario against it:
 *
 * <pre>{@code
 * class NettyAdapterTest extends AdapterScenarios {
 *   @Override
 *   protected ProxyHandle startProxy(Router router, ProxySettings settings) {
 *     AffinityProxyServer server = ...; // bind 127.0.0.1:0, apply settings
 *     return new ProxyHandle() {
 *       public int port() { return server.port(); }
 *       public void close() { server.close(); }
 *     };
 *   }
 * }
 * }</pre>
 *
 * <p>The contract the scenarios check (the adapter behaviour the README and the adapter guides
 * describe):
 *
 * <ul>
 *   <li>the proxy listens on 127.0.0.1 and routes every WebSocket upgrade with {@code router};
 *   <li>REJECTED → 401, NO_BACKEND → 503, malformed → 400, oversized head → 431 (or 414 for the
 *       request line, 400), every connect candidate failed → 502, a backend that accepts TCP and
 *       never answers → 504 after {@link ProxySettings#handshakeTimeout()}; each with {@code
 *       Connection: close}, then the connection is closed;
 *   <li>the request head is forwarded unchanged except for {@code X-Forwarded-For}, {@code -Proto},
 *       {@code -Host}, {@code -Port} and {@code Forwarded}, which are kept and appended to only
 *       from a trusted proxy and replaced otherwise; the backend's response is relayed (101 with
 *       the decision's {@code Set-Cookie} added; anything else relayed and closed);
 *   <li>the request head limits are at most 8 KiB of headers (so a 16 KiB header is oversized);
 *   <li>connect failures are reported with {@link Router#reportConnectFailure} before the next
 *       candidate is tried.
 * </ul>
 *
 * <p>Backends are three {@link EchoBackend}s ({@code ws-1}..{@code ws-3}) started fresh for each
 * scenario; a scenario builds its own router over {@link #group()}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
public abstract class AdapterScenarios {
  /** How long scenario waits last at most; generous because CI machines are loaded. */
  protected static final Duration WAIT = Duration.ofSeconds(30);

  private final List<EchoBackend> backends = new ArrayList<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final List<Backend> connectFailures = new CopyOnWriteArrayList<>();
  private BackendGroup group = BackendGroup.create();

  /**
   * Starts the adapter under test as a proxy on 127.0.0.1 (ephemeral port) that routes with {@code
   * router} and applies {@code settings}. Called once or more per scenario; the scenario closes
   * each handle.
   *
   * @throws Exception if the proxy cannot start (the scenario fails)
   */
  protected abstract ProxyHandle startProxy(Router router, ProxySettings settings) throws Exception;

  @BeforeEach
  void startBackends() {
    List<Backend> members = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      EchoBackend b = EchoBackend.builder("ws-" + i).subprotocols("echo.v2", "echo.v1").start();
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
    for (EchoBackend b : backends) {
      b.close();
    }
  }

  /** The group over the three backends of this scenario. */
  protected final BackendGroup group() {
    return group;
  }

  /** The backend announcing {@code id}. */
  protected final EchoBackend backend(String id) {
    for (EchoBackend b : backends) {
      if (b.id().equals(id)) {
        return b;
      }
    }
    throw new AssertionError("no backend " + id);
  }

  /** A router builder over {@link #group()} whose listener records connect failures. */
  protected final dev.affinity.Router.Builder router() {
    return Router.builder(group)
        .listener(
            new RoutingListener() {
              @Override
              public void connectFailed(Backend backend, Throwable cause) {
                connectFailures.add(backend);
              }
            });
  }

  /** Starts a proxy with {@link ProxySettings#DEFAULTS} and closes it after the scenario. */
  protected final ProxyHandle proxy(Router router) throws Exception {
    return proxy(router, ProxySettings.DEFAULTS);
  }

  /** Starts a proxy and closes it after the scenario. */
  protected final ProxyHandle proxy(Router router, ProxySettings settings) throws Exception {
    ProxyHandle p = startProxy(router, settings);
    closeables.add(p);
    return p;
  }

  /** A client closed after the scenario. */
  protected final WsClient client(WsClient c) {
    closeables.add(c);
    return c;
  }

  /** A router over {@link #group()}, sticky by the trusted {@code X-Forwarded-For}. */
  protected final Router xffRouter() {
    return router().strategy(AffinityStrategy.sourceIp(xffResolver())).build();
  }

  private static ClientAddressResolver xffResolver() {
    return ClientAddressResolver.builder()
        .trustedProxies("127.0.0.1/32")
        .forwardedHeader(ForwardedHeader.X_FORWARDED_FOR)
        .build();
  }

  /** Which backend {@code router} picks for a client at {@code ip} behind the trusted proxy. */
  protected static String expectedForXff(Router router, String ip) {
    return router
        .select(
            RoutingRequest.builder()
                .remoteAddress("127.0.0.1", 40000)
                .path("/")
                .header("X-Forwarded-For", ip)
                .build())
        .backend()
        .id();
  }

  // ---------------------------------------------------------------- affinity

  @Test
  void ipHash_trustedXForwardedFor_eachClientLandsOnItsOwnerEveryTime() throws Exception {
    Router router = xffRouter();
    ProxyHandle proxy = proxy(router);
    WsClient jdk = client(WsClient.jdk());
    Set<String> seen = new HashSet<>();
    for (int i = 1; i <= 12; i++) {
      String ip = "203.0.113." + i;
      String owner = expectedForXff(router, ip);
      for (int round = 0; round < 2; round++) {
        try (WsSession s =
            jdk.connect(Handshake.to(proxy.port(), "/").header("X-Forwarded-For", ip))) {
          assertThat(s.nextText())
              .as("client %s round %d", ip, round)
              .isEqualTo("backend:" + owner);
          s.sendText("ping " + ip);
          assertThat(s.nextText()).isEqualTo("ping " + ip);
        }
      }
      seen.add(owner);
    }
    assertThat(seen).as("12 client IPs over 3 backends").hasSizeGreaterThan(1);
  }

  @Test
  void handshake_isForwardedUnchanged_withForwardedHeadersAdded() throws Exception {
    ProxyHandle proxy = proxy(router().strategy(AffinityStrategy.sourceIp()).build());
    try (RawConnection c = RawConnection.open(proxy.port())) {
      c.send(
          RawConnection.upgradeRequest(
              "/chat/room-7?token=abc&x=1",
              "X-Custom: Keep-Me",
              "Sec-WebSocket-Protocol: echo.v1, echo.v2",
              "Sec-WebSocket-Extensions: x-made-up; p=1",
              "X-Forwarded-For: 198.51.100.1"));
      RawConnection.Response r = c.readResponseHead();
      assertThat(r.status()).as(r.toString()).isEqualTo(101);
      assertThat(r.header("Sec-WebSocket-Accept"))
          .isEqualTo(EchoBackend.accept("dGhlIHNhbXBsZSBub25jZQ=="));
      assertThat(r.header("Sec-WebSocket-Protocol"))
          .as("client's first supported offer")
          .isEqualTo("echo.v1");
      String hello = c.readFrame().text();
      FullHttpRequest seen = backend(hello.substring("backend:".length())).handshakes().get(0);
      assertThat(seen.uri()).isEqualTo("/chat/room-7?token=abc&x=1");
      assertThat(seen.headers().get("Host")).isEqualTo("127.0.0.1");
      assertThat(seen.headers().get("X-Custom")).isEqualTo("Keep-Me");
      assertThat(seen.headers().get("Sec-WebSocket-Key")).isEqualTo("dGhlIHNhbXBsZSBub25jZQ==");
      assertThat(seen.headers().get("Sec-WebSocket-Version")).isEqualTo("13");
      assertThat(seen.headers().get("Sec-WebSocket-Protocol")).isEqualTo("echo.v1, echo.v2");
      assertThat(seen.headers().get("Sec-WebSocket-Extensions")).isEqualTo("x-made-up; p=1");
      assertThat(seen.headers().getAll("X-Forwarded-For"))
          .as("an untrusted client's entry is replaced")
          .containsExactly("127.0.0.1");
      assertThat(seen.headers().get("X-Forwarded-Proto")).isEqualTo("http");
      assertThat(String.join(",", seen.headers().getAll("Forwarded"))).contains("for=127.0.0.1");
    }
  }

  // ---------------------------------------------------------------- pipelining

  /**
   * A frame the client sends in the same TCP packet as its upgrade request is relayed once the
   * tunnel is up, as Jetty, HAProxy and NGINX do: never lost, and the connection stays usable.
   */
  @Test
  void framePipelinedBehindTheHandshake_reachesTheBackend() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    try (RawConnection c = RawConnection.open(proxy.port())) {
      byte[] head = RawConnection.upgradeRequest("/").getBytes(StandardCharsets.ISO_8859_1);
      byte[] frame = RawConnection.maskedFrame(0x1, "early bird".getBytes(StandardCharsets.UTF_8));
      byte[] both = new byte[head.length + frame.length];
      System.arraycopy(head, 0, both, 0, head.length);
      System.arraycopy(frame, 0, both, head.length, frame.length);
      c.send(both);
      assertThat(c.readResponseHead().status()).isEqualTo(101);
      assertThat(c.readFrame().text()).startsWith("backend:");
      assertThat(c.readFrame().text()).isEqualTo("early bird");
      c.sendText("after");
      assertThat(c.readFrame().text()).isEqualTo("after");
    }
  }

  // ---------------------------------------------------------------- what a WebSocket attempt is

  /**
   * A request with WebSocket fields but no {@code Upgrade: websocket} is a broken WebSocket
   * attempt, not a plain request: both adapters answer it 400 with the same plain-text body.
   */
  @Test
  void webSocketFieldsWithoutUpgrade_isABrokenAttempt_answered400() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    try (RawConnection c = RawConnection.open(proxy.port())) {
      c.readTimeout(WAIT);
      c.send(RawConnection.upgradeRequest("/").replace("Upgrade: websocket\r\n", ""));
      RawConnection.Response r = c.readResponseHead();
      assertThat(r.status()).as(r.toString()).isEqualTo(400);
      assertThat(r.header("Content-Type")).isEqualTo("text/plain; charset=utf-8");
      assertThat(new String(c.readToEnd(1024), StandardCharsets.UTF_8))
          .isEqualTo("400 missing Upgrade: websocket\n");
    }
  }

  // ---------------------------------------------------------------- the shared upgrade rules

  /** Sends {@code request} raw; returns the answer's head and its body (read to the close). */
  private static String answerTo(ProxyHandle proxy, String request, int status) {
    try (RawConnection c = RawConnection.open(proxy.port())) {
      c.readTimeout(WAIT);
      c.send(request);
      RawConnection.Response r = c.readResponseHead();
      assertThat(r.status()).as(r.toString()).isEqualTo(status);
      assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
      return new String(c.readToEnd(4096), StandardCharsets.UTF_8);
    }
  }

  /**
   * A plain GET that is not a WebSocket attempt gets {@code 426 Upgrade Required} with {@code
   * Upgrade: websocket} on both adapters (the answer a WebSocket server behind HAProxy or NGINX
   * gives), not a 404 on one and a 426 on the other.
   */
  @Test
  void plainGet_notAWebSocketAttempt_gets426WithUpgradeWebsocket() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    try (RawConnection c = RawConnection.open(proxy.port())) {
      c.readTimeout(WAIT);
      c.send("GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      RawConnection.Response r = c.readResponseHead();
      assertThat(r.status()).as(r.toString()).isEqualTo(426);
      assertThat(r.header("Upgrade")).isEqualToIgnoringCase("websocket");
      assertThat(r.header("Sec-WebSocket-Version")).isEqualTo("13");
      assertThat(new String(c.readToEnd(1024), StandardCharsets.UTF_8))
          .isEqualTo("426 WebSocket upgrade required\n");
    }
  }

  /** More header fields than the limit (100 by default, on both adapters) get 431. */
  @Test
  void moreHeaderFieldsThanTheLimit_get431() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    String[] pad = new String[100];
    for (int i = 0; i < pad.length; i++) {
      pad[i] = "X-Pad-" + i + ": " + i;
    }
    assertThat(answerTo(proxy, RawConnection.upgradeRequest("/", pad), 431))
        .isEqualTo("431 too many header fields: 105 (limit 100)\n");
    String[] fewer = java.util.Arrays.copyOf(pad, 95);
    assertThat(backendSees(proxy, RawConnection.upgradeRequest("/", fewer)).headers().size())
        .isGreaterThanOrEqualTo(100);
  }

  /** A WebSocket handshake carries no body: a Content-Length above 0 or any Transfer-Encoding. */
  @Test
  void handshakeWithABody_gets400() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    String withLength = RawConnection.upgradeRequest("/", "Content-Length: 5") + "hello";
    assertThat(answerTo(proxy, withLength, 400))
        .isEqualTo("400 a WebSocket handshake has no body\n");
    String chunked = RawConnection.upgradeRequest("/", "Transfer-Encoding: chunked") + "0\r\n\r\n";
    assertThat(answerTo(proxy, chunked, 400)).isEqualTo("400 a WebSocket handshake has no body\n");
    assertThat(backendSees(proxy, RawConnection.upgradeRequest("/", "Content-Length: 0")).uri())
        .isEqualTo("/");
  }

  /** Two {@code Host} fields, or none, get 400 on both adapters. */
  @Test
  void hostMissingOrTwice_gets400() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    assertErrorAnswer(proxy, RawConnection.upgradeRequest("/", "Host: evil.example"), 400);
    assertErrorAnswer(
        proxy, RawConnection.upgradeRequest("/").replace("Host: 127.0.0.1\r\n", ""), 400);
  }

  /**
   * Request targets: neither origin-form nor absolute-form (a bare word, {@code *}, userinfo) gets
   * 400; one longer than 4096 characters gets 414.
   */
  @Test
  void badOrTooLongRequestTarget_gets400Or414() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    for (String target : List.of("chat", "*", "http://user@127.0.0.1/", "ftp://127.0.0.1/")) {
      assertErrorAnswer(
          proxy, RawConnection.upgradeRequest("/").replace("GET / ", "GET " + target + " "), 400);
    }
    assertErrorAnswer(proxy, RawConnection.upgradeRequest("/" + "a".repeat(4200)), 414);
    assertThat(backendSees(proxy, RawConnection.upgradeRequest("/" + "a".repeat(3000))).uri())
        .hasSize(3001);
  }

  /** A control character (other than tab) in a header value gets 400 on both adapters. */
  @Test
  void controlCharacterInAHeaderValue_gets400() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    for (char c : new char[] {0x01, 0x1b, 0x7f}) {
      assertErrorAnswer(proxy, RawConnection.upgradeRequest("/", "X-Note: a" + c + "b"), 400);
    }
    assertThat(backendSees(proxy, RawConnection.upgradeRequest("/", "X-Note: a\tb")).uri())
        .isEqualTo("/");
  }

  /**
   * A backend's non-101 answer reaches the client with at most 64 KiB of its body (both adapters'
   * default), a {@code Content-Length} for what is relayed, and a close.
   */
  @Test
  void backendsNon101Body_isCappedAt64KiB() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    try (RawConnection c = RawConnection.open(proxy.port())) {
      c.readTimeout(WAIT);
      c.send(RawConnection.upgradeRequest("/status/500?bytes=200000"));
      RawConnection.Response r = c.readResponseHead();
      assertThat(r.status()).as(r.toString()).isEqualTo(500);
      assertThat(r.header("Content-Length")).isEqualTo("65536");
      assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
      assertThat(c.readToEnd(200_000)).hasSize(65536).containsOnly((byte) 'x');
    }
    try (RawConnection c = RawConnection.open(proxy.port())) {
      c.readTimeout(WAIT);
      c.send(RawConnection.upgradeRequest("/status/503?bytes=1000"));
      RawConnection.Response r = c.readResponseHead();
      assertThat(r.status()).as(r.toString()).isEqualTo(503);
      assertThat(r.header("Content-Length")).isEqualTo("1000");
      assertThat(c.readToEnd(200_000)).hasSize(1000);
    }
  }

  // ---------------------------------------------------------------- request target

  /**
   * An absolute-form request target (RFC 9112 section 3.2.2: servers must accept it) is routed by
   * its path and forwarded to the backend in origin-form, as Jetty, HAProxy and NGINX do.
   */
  @Test
  void absoluteFormTarget_isAccepted_andForwardedInOriginForm() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    String head =
        RawConnection.upgradeRequest("/")
            .replace("GET / HTTP/1.1", "GET http://127.0.0.1/chat/room-7?x=1 HTTP/1.1");
    FullHttpRequest seen = backendSees(proxy, head);
    assertThat(seen.uri()).isEqualTo("/chat/room-7?x=1");
  }

  // ---------------------------------------------------------------- request-head timeout

  /**
   * A connection that sends no request head, or only part of one, within the request-head timeout
   * gets 408 with the plain-text body and {@code Connection: close}, and is closed: silent and slow
   * clients cannot hold file descriptors. The timeout is 300 ms here so the test does not wait the
   * default 10 s.
   */
  @Test
  void requestHeadTimeout_silentOrPartialHead_gets408ThenClose() throws Exception {
    ProxyHandle proxy =
        proxy(
            router().build(),
            ProxySettings.DEFAULTS.withRequestHeadTimeout(Duration.ofMillis(300)));
    for (String sent : new String[] {"", "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr"}) {
      try (RawConnection c = RawConnection.open(proxy.port())) {
        c.readTimeout(WAIT);
        if (!sent.isEmpty()) {
          c.send(sent);
        }
        RawConnection.Response r = c.readResponseHead();
        assertThat(r.status())
            .as("after %s", sent.isEmpty() ? "nothing" : "a partial head")
            .isEqualTo(408);
        assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
        assertThat(r.header("Content-Type")).isEqualTo("text/plain; charset=utf-8");
        assertThat(new String(c.readToEnd(1024), StandardCharsets.UTF_8))
            .isEqualTo("408 request head not received in time\n");
        assertThat(c.awaitClosed()).isTrue();
      }
    }
  }

  /**
   * A complete head within the timeout is not cut: the tunnel outlives the request-head timeout.
   */
  @Test
  void requestHeadTimeout_doesNotCloseAnOpenTunnel() throws Exception {
    ProxyHandle proxy =
        proxy(
            router().build(),
            ProxySettings.DEFAULTS.withRequestHeadTimeout(Duration.ofMillis(300)));
    try (RawConnection c = RawConnection.open(proxy.port())) {
      c.send(RawConnection.upgradeRequest("/"));
      assertThat(c.readResponseHead().status()).isEqualTo(101);
      assertThat(c.readFrame().text()).startsWith("backend:");
      // The echo's answer comes back only after the timeout would have fired, had it been left on.
      c.sendText("delay:600 still open");
      assertThat(c.readFrame().text()).isEqualTo("still open");
    }
  }

  // ---------------------------------------------------------------- shutdown

  /**
   * Closing the proxy is a graceful stop: every open tunnel gets a 1001 close frame (not a bare TCP
   * close, which clients report as 1006), and a handshake still arriving on a connection accepted
   * before the stop gets 503 {@code proxy is stopping}, not "no backend". A client that stopped
   * reading while its backend floods keeps one tunnel mid-frame, so the stop lasts the close-frame
   * wait (at most 5 s) and the late handshake lands inside it.
   */
  @Test
  void shutdown_tunnelsGet1001_andLateHandshakesGet503ProxyIsStopping() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    WsClient jdk = client(WsClient.jdk());
    WsSession quiet = jdk.connect(Handshake.to(proxy.port(), "/"));
    assertThat(quiet.nextText()).startsWith("backend:");
    try (RawConnection busy = RawConnection.open(proxy.port(), 64 * 1024);
        RawConnection late = RawConnection.open(proxy.port())) {
      busy.send(RawConnection.upgradeRequest("/"));
      assertThat(busy.readResponseHead().status()).isEqualTo(101);
      EchoBackend b = backend(busy.readFrame().text().substring("backend:".length()));
      busy.sendText("flood:" + (512L << 20));
      // Stalled for 500 ms without a break: the proxy stopped reading because the client leg is
      // full, so the tunnel's close frame waits behind queued bytes and the proxy keeps running
      // while the late handshake arrives. (A brief stall only means the backend out-wrote the
      // kernel; the tunnel could then close at once and the proxy stop before the late request.)
      awaitTrue(
          () -> b.floodStalledNanos() > TimeUnit.MILLISECONDS.toNanos(500),
          "the flood stays stalled");
      ExecutorService stopper = Executors.newSingleThreadExecutor();
      try {
        Future<?> stopped = stopper.submit(proxy::close);
        assertThat(quiet.awaitClosed(WAIT)).as("the quiet tunnel closes").isTrue();
        assertThat(quiet.closeStatus()).as("close code of the quiet tunnel").isEqualTo(1001);
        late.readTimeout(WAIT);
        late.send(RawConnection.upgradeRequest("/"));
        RawConnection.Response r = late.readResponseHead();
        assertThat(r.status()).as(r.toString()).isEqualTo(503);
        assertThat(new String(late.readToEnd(1024), StandardCharsets.UTF_8))
            .isEqualTo("503 proxy is stopping\n");
        stopped.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      } finally {
        stopper.shutdownNow();
      }
    }
  }

  // ---------------------------------------------------------------- forwarded headers

  private static final String[] SPOOFED_FORWARDED = {
    "X-Forwarded-For: 6.6.6.6",
    "X-Forwarded-Proto: https",
    "X-Forwarded-Host: bank.example",
    "X-Forwarded-Port: 443",
    "Forwarded: for=6.6.6.6;proto=https"
  };

  /** Sends {@code head} and returns the request head the backend received. */
  private FullHttpRequest backendSees(ProxyHandle proxy, String head) {
    try (RawConnection c = RawConnection.open(proxy.port())) {
      c.send(head);
      RawConnection.Response r = c.readResponseHead();
      assertThat(r.status()).as(r.toString()).isEqualTo(101);
      String id = c.readFrame().text().substring("backend:".length());
      List<FullHttpRequest> seen = backend(id).handshakes();
      return seen.get(seen.size() - 1);
    }
  }

  private static void assertForwarded(
      FullHttpRequest seen, String xff, String proto, String host, String port, String forwarded) {
    assertThat(seen.headers().getAll("X-Forwarded-For")).containsExactly(xff);
    assertThat(seen.headers().getAll("X-Forwarded-Proto")).containsExactly(proto);
    assertThat(seen.headers().getAll("X-Forwarded-Host")).containsExactly(host);
    assertThat(seen.headers().getAll("X-Forwarded-Port")).containsExactly(port);
    assertThat(seen.headers().getAll("Forwarded")).containsExactly(forwarded);
  }

  /**
   * A client that is not a trusted proxy cannot make the backend believe anything: every forwarded
   * header it sends ({@code X-Forwarded-For}, {@code -Proto}, {@code -Host}, {@code -Port}, {@code
   * Forwarded}) is replaced with what this hop saw. In particular a plain-http client claiming
   * {@code X-Forwarded-Proto: https} reaches the backend as {@code http}.
   */
  @Test
  void forwardedHeaders_fromAnUntrustedClient_areAllReplaced() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    FullHttpRequest seen = backendSees(proxy, RawConnection.upgradeRequest("/", SPOOFED_FORWARDED));
    assertForwarded(
        seen,
        "127.0.0.1",
        "http",
        "127.0.0.1",
        Integer.toString(proxy.port()),
        "for=127.0.0.1;host=127.0.0.1;proto=http");
  }

  /** From a trusted proxy the forwarded headers are kept, and this hop's entries appended. */
  @Test
  void forwardedHeaders_fromATrustedProxy_areKeptAndAppended() throws Exception {
    ProxyHandle proxy =
        proxy(router().build(), ProxySettings.DEFAULTS.withTrustedProxies("127.0.0.1/32"));
    FullHttpRequest seen = backendSees(proxy, RawConnection.upgradeRequest("/", SPOOFED_FORWARDED));
    assertForwarded(
        seen,
        "6.6.6.6, 127.0.0.1",
        "https",
        "bank.example",
        "443",
        "for=6.6.6.6;proto=https, for=127.0.0.1;host=127.0.0.1;proto=http");
  }

  /**
   * A PROXY protocol header from a peer that is not a trusted proxy is never believed: not for
   * routing, and not for the forwarded headers the backend sees, which name the real peer.
   */
  @Test
  void proxyProtocol_fromAnUntrustedPeer_isNeverWrittenAsTheClient() throws Exception {
    ProxyHandle proxy = proxy(router().build(), ProxySettings.DEFAULTS.withProxyProtocol(true));
    FullHttpRequest seen =
        backendSees(
            proxy,
            "PROXY TCP4 6.6.6.6 127.0.0.1 5555 80\r\n"
                + RawConnection.upgradeRequest("/", "X-Forwarded-For: 6.6.6.6"));
    assertThat(seen.headers().getAll("X-Forwarded-For")).containsExactly("127.0.0.1");
    assertThat(seen.headers().getAll("Forwarded"))
        .containsExactly("for=127.0.0.1;host=127.0.0.1;proto=http");
  }

  /** A trusted peer's PROXY protocol source is the client the backend sees. */
  @Test
  void proxyProtocol_fromATrustedPeer_itsSourceIsTheClient() throws Exception {
    ProxyHandle proxy =
        proxy(
            router().build(),
            ProxySettings.DEFAULTS.withProxyProtocol(true).withTrustedProxies("127.0.0.1/32"));
    FullHttpRequest seen =
        backendSees(
            proxy,
            "PROXY TCP6 2001:db8:0:0:0:0:0:9 ::1 5555 80\r\n" + RawConnection.upgradeRequest("/"));
    assertThat(seen.headers().getAll("X-Forwarded-For")).containsExactly("2001:db8::9");
    assertThat(seen.headers().getAll("Forwarded"))
        .containsExactly("for=\"[2001:db8::9]\";host=127.0.0.1;proto=http");
  }

  /** A trusted peer's PROXY protocol source is the client for routing, too. */
  @Test
  void proxyProtocol_fromATrustedPeer_itsSourceRoutes() throws Exception {
    ClientAddressResolver resolver =
        ClientAddressResolver.builder()
            .trustedProxies("127.0.0.1/32")
            .proxyProtocol(true)
            .forwardedHeader(ForwardedHeader.X_FORWARDED_FOR)
            .build();
    Router router = router().strategy(AffinityStrategy.sourceIp(resolver)).build();
    ProxyHandle proxy =
        proxy(
            router,
            ProxySettings.DEFAULTS.withProxyProtocol(true).withTrustedProxies("127.0.0.1/32"));
    for (String ip : new String[] {"203.0.113.9", "198.51.100.20", "192.0.2.33"}) {
      String owner =
          router
              .select(
                  RoutingRequest.builder()
                      .remoteAddress("127.0.0.1", 40000)
                      .proxyProtocolSourceAddress(new InetSocketAddress(ip, 5555))
                      .build())
              .backend()
              .id();
      try (RawConnection c = RawConnection.open(proxy.port())) {
        c.send("PROXY TCP4 " + ip + " 127.0.0.1 5555 80\r\n" + RawConnection.upgradeRequest("/"));
        assertThat(c.readResponseHead().status()).isEqualTo(101);
        assertThat(c.readFrame().text()).isEqualTo("backend:" + owner);
      }
      List<FullHttpRequest> seen = backend(owner).handshakes();
      assertThat(seen.get(seen.size() - 1).headers().getAll("X-Forwarded-For"))
          .as("the trusted peer's PROXY source is the client")
          .containsExactly(ip);
    }
  }

  /** The cookie strategy with a fixed test key; the fallback rotates, so only the cookie sticks. */
  protected final Router cookieRouter() {
    return router()
        .strategy(
            AffinityStrategy.cookie(CookieAffinity.builder(CookieKeys.of(COOKIE_KEY)).build()))
        .fallback(AffinityStrategy.roundRobin())
        .build();
  }

  private static final CookieKey COOKIE_KEY =
      CookieKey.of(1, "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII));

  @Test
  void cookieAffinity_acrossTwentyReconnects_staysOnTheSameBackend_withEitherClient()
      throws Exception {
    ProxyHandle proxy = proxy(cookieRouter());
    for (WsClient c : List.of(client(WsClient.jdk()), client(WsClient.jetty()))) {
      String first;
      try (WsSession s = c.connect(Handshake.to(proxy.port(), "/"))) {
        first = s.nextText();
      }
      String cookie = c.cookie(CookieAffinity.DEFAULT_NAME);
      assertThat(cookie).as("%s got the affinity cookie from the 101", c.name()).isNotNull();
      for (int i = 0; i < 20; i++) {
        try (WsSession s = c.connect(Handshake.to(proxy.port(), "/"))) {
          assertThat(s.nextText()).as("%s reconnect %d", c.name(), i).isEqualTo(first);
        }
      }
      assertThat(c.cookie(CookieAffinity.DEFAULT_NAME)).as("kept, not reissued").isEqualTo(cookie);
    }
  }

  @Test
  void affinityCookie_isAddedNextToTheBackendsOwnSetCookie() throws Exception {
    ProxyHandle proxy = proxy(cookieRouter());
    try (RawConnection c = RawConnection.open(proxy.port())) {
      c.send(RawConnection.upgradeRequest("/burst"));
      RawConnection.Response r = c.readResponseHead();
      assertThat(r.status()).isEqualTo(101);
      assertThat(r.headers("Set-Cookie")).hasSize(2);
      assertThat(r.headers("Set-Cookie").get(0)).startsWith("backend-session=ws-");
      assertThat(r.headers("Set-Cookie").get(1))
          .as("the same attributes, spelled the same, on both adapters")
          .startsWith(CookieAffinity.DEFAULT_NAME + "=")
          .endsWith("; Path=/; HttpOnly; SameSite=Lax");
      assertThat(r.headers("Expires")).as("no Expires header added to the 101").isEmpty();
    }
  }

  @Test
  void cookieClient_whoseBackendDies_isClosed_andReconnectsElsewhereWithANewCookie()
      throws Exception {
    ProxyHandle proxy = proxy(cookieRouter());
    WsClient jetty = client(WsClient.jetty());
    WsSession s = jetty.connect(Handshake.to(proxy.port(), "/"));
    closeables.add(s);
    String owner = s.nextText().substring("backend:".length());
    String cookie = jetty.cookie(CookieAffinity.DEFAULT_NAME);
    WsClient other = client(WsClient.jdk());
    List<WsSession> bystanders = new ArrayList<>();
    for (int i = 0; i < 6; i++) { // round robin: these spread over all three backends
      WsSession b = other.connect(Handshake.to(proxy.port(), "/"));
      closeables.add(b);
      if (!b.nextText().equals("backend:" + owner)) {
        bystanders.add(b);
      }
    }
    assertThat(bystanders).isNotEmpty();
    backend(owner).stop();
    assertThat(s.awaitClosed(WAIT)).isTrue();
    // Before anything marks it down, the cookie still names the dead backend: connect failover.
    try (RawConnection raw = RawConnection.open(proxy.port())) {
      raw.send(RawConnection.upgradeRequest("/", "Cookie: AFFINITY=" + cookie));
      RawConnection.Response r = raw.readResponseHead();
      assertThat(r.status()).as("%s", r).isEqualTo(101);
      assertThat(raw.readFrame().text()).isNotEqualTo("backend:" + owner);
      assertThat(r.headers("Set-Cookie"))
          .as("a cookie naming the backend it failed over to")
          .anySatisfy(c -> assertThat(c).startsWith("AFFINITY=").doesNotContain(cookie));
    }
    // Once health checking marks it DOWN, the cookie fails over and is replaced.
    group.markDown(owner);
    try (WsSession again = jetty.connect(Handshake.to(proxy.port(), "/"))) {
      assertThat(again.nextText()).isNotEqualTo("backend:" + owner);
    }
    assertThat(jetty.cookie(CookieAffinity.DEFAULT_NAME)).isNotNull().isNotEqualTo(cookie);
    for (int round = 0; round < 10; round++) {
      for (WsSession b : bystanders) {
        b.sendText("round " + round);
        assertThat(b.nextText()).isEqualTo("round " + round);
      }
    }
  }

  private static final byte[] JWT_SECRET =
      "a-test-secret-of-more-than-32-bytes!".getBytes(StandardCharsets.US_ASCII);

  /** Sticky by the {@code sub} claim of an HS256 token from the query or a subprotocol. */
  protected final Router jwtRouter() {
    JwtAffinity tokens =
        JwtAffinity.builder(JwtAlgorithm.HS256, JWT_SECRET)
            .issuer("https://auth.test")
            .sources(TokenSource.queryParameter("access_token"), TokenSource.webSocketProtocol())
            .claims("sub")
            .invalidToken(JwtAffinity.InvalidTokenPolicy.REJECT)
            .build();
    return router()
        .strategy(AffinityStrategy.jwt(tokens))
        .fallback(AffinityStrategy.roundRobin())
        .build();
  }

  /** A valid token for {@code subject}, signed with the scenarios' secret. */
  protected static String token(String subject) {
    return JWT.create()
        .withIssuer("https://auth.test")
        .withSubject(subject)
        .withExpiresAt(Instant.now().plus(Duration.ofHours(1)))
        .sign(Algorithm.HMAC256(JWT_SECRET));
  }

  /**
   * Cookie first, then JWT under REJECT: a valid affinity cookie does not let a present but expired
   * or forged token through. Whichever strategy decides, the invalid token is refused with 401 and
   * no backend sees the handshake; a valid token with the same cookie passes.
   */
  @Test
  void reject_validCookieWithAnExpiredOrForgedToken_gets401_aValidTokenPasses() throws Exception {
    JwtAffinity tokens =
        JwtAffinity.builder(JwtAlgorithm.HS256, JWT_SECRET)
            .issuer("https://auth.test")
            .sources(TokenSource.queryParameter("access_token"))
            .claims("sub")
            .invalidToken(JwtAffinity.InvalidTokenPolicy.REJECT)
            .build();
    Router router =
        router()
            .strategy(
                AffinityStrategy.cookie(CookieAffinity.builder(CookieKeys.of(COOKIE_KEY)).build()))
            .strategy(AffinityStrategy.jwt(tokens))
            .fallback(AffinityStrategy.roundRobin())
            .build();
    ProxyHandle proxy = proxy(router);
    String cookie;
    String owner;
    try (RawConnection c = RawConnection.open(proxy.port())) {
      c.send(RawConnection.upgradeRequest("/?access_token=" + token("alice")));
      RawConnection.Response r = c.readResponseHead();
      assertThat(r.status()).as("%s", r).isEqualTo(101);
      owner = c.readFrame().text();
      cookie =
          r.headers("Set-Cookie").stream()
              .filter(v -> v.startsWith(CookieAffinity.DEFAULT_NAME + "="))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no affinity cookie on " + r))
              .split(";", -1)[0];
    }
    String expired =
        JWT.create()
            .withIssuer("https://auth.test")
            .withSubject("alice")
            .withExpiresAt(Instant.now().minus(Duration.ofHours(1)))
            .sign(Algorithm.HMAC256(JWT_SECRET));
    String forged =
        JWT.create()
            .withIssuer("https://auth.test")
            .withSubject("alice")
            .withExpiresAt(Instant.now().plus(Duration.ofHours(1)))
            .sign(Algorithm.HMAC256("not-the-secret-but-long-enough-to-sign-with"));
    int seenBefore = backends.stream().mapToInt(b -> b.handshakes().size()).sum();
    for (String bad : List.of(expired, forged)) {
      assertErrorAnswer(
          proxy, RawConnection.upgradeRequest("/?access_token=" + bad, "Cookie: " + cookie), 401);
    }
    assertThat(backends.stream().mapToInt(b -> b.handshakes().size()).sum())
        .as("no backend saw a refused handshake")
        .isEqualTo(seenBefore);
    try (RawConnection c = RawConnection.open(proxy.port())) {
      c.send(RawConnection.upgradeRequest("/?access_token=" + token("alice"), "Cookie: " + cookie));
      assertThat(c.readResponseHead().status()).isEqualTo(101);
      assertThat(c.readFrame().text()).as("the cookie's backend").isEqualTo(owner);
    }
  }

  @Test
  void jwtAffinity_fromTheQueryAndFromTheSubprotocolList_routesEachUserToItsOwner()
      throws Exception {
    Router router = jwtRouter();
    ProxyHandle proxy = proxy(router);
    WsClient jdk = client(WsClient.jdk());
    WsClient jetty = client(WsClient.jetty());
    Set<String> owners = new HashSet<>();
    for (int u = 0; u < 6; u++) {
      String jwt = token("user-" + u);
      String owner =
          router
              .select(
                  RoutingRequest.builder()
                      .remoteAddress("127.0.0.1", 1)
                      .path("/")
                      .queryParameter("access_token", jwt)
                      .build())
              .backend()
              .id();
      owners.add(owner);
      for (int round = 0; round < 2; round++) {
        try (WsSession s = jdk.connect(Handshake.to(proxy.port(), "/?access_token=" + jwt))) {
          assertThat(s.nextText()).as("user-%d by query", u).isEqualTo("backend:" + owner);
        }
        try (WsSession s =
            jetty.connect(
                Handshake.to(proxy.port(), "/").subprotocols("echo.v1", "bearer." + jwt))) {
          assertThat(s.nextText()).as("user-%d by subprotocol", u).isEqualTo("backend:" + owner);
          assertThat(s.subprotocol()).isEqualTo("echo.v1");
        }
      }
    }
    assertThat(owners).hasSizeGreaterThan(1);
    String valid = token("user-0");
    int sig = valid.lastIndexOf('.') + 1;
    String forged =
        valid.substring(0, sig) + (valid.charAt(sig) == 'A' ? 'B' : 'A') + valid.substring(sig + 1);
    try (WsClient c = WsClient.jdk()) {
      assertThatThrownBy(() -> c.connect(Handshake.to(proxy.port(), "/?access_token=" + forged)))
          .isInstanceOfSatisfying(
              HandshakeFailedException.class, e -> assertThat(e.status()).isEqualTo(401));
    }
  }

  // ---------------------------------------------------------------- failures

  @Test
  void backendKilledMidSession_itsClientsClose_reconnectElsewhere_othersLoseNothing()
      throws Exception {
    Router router = xffRouter();
    ProxyHandle proxy = proxy(router);
    WsClient jdk = client(WsClient.jdk());
    Map<String, List<String>> ipsByBackend = new HashMap<>();
    for (int i = 1; ipsByBackend.values().stream().mapToInt(List::size).sum() < 9 && i < 250; i++) {
      String ip = "198.51.100." + i;
      List<String> ips =
          ipsByBackend.computeIfAbsent(expectedForXff(router, ip), k -> new ArrayList<>());
      if (ips.size() < 3) {
        ips.add(ip);
      }
    }
    assertThat(ipsByBackend).containsOnlyKeys("ws-1", "ws-2", "ws-3");
    Map<String, WsSession> sessions = new HashMap<>();
    for (List<String> ips : ipsByBackend.values()) {
      for (String ip : ips) {
        WsSession s = jdk.connect(Handshake.to(proxy.port(), "/").header("X-Forwarded-For", ip));
        closeables.add(s);
        s.nextText();
        sessions.put(ip, s);
      }
    }
    backend("ws-1").stop();

    for (String ip : requireNonNull(ipsByBackend.get("ws-1"), "ws-1 clients")) {
      assertThat(requireNonNull(sessions.get(ip), ip).awaitClosed(WAIT))
          .as("session of %s on ws-1 closed", ip)
          .isTrue();
    }
    for (int round = 0; round < 20; round++) {
      for (String owner : List.of("ws-2", "ws-3")) {
        for (String ip : requireNonNull(ipsByBackend.get(owner), owner)) {
          WsSession s = requireNonNull(sessions.get(ip), ip);
          s.sendText(ip + "#" + round);
          assertThat(s.nextText()).isEqualTo(ip + "#" + round);
        }
      }
    }
    String moved = ipsByBackend.get("ws-1").get(0);
    try (WsSession again =
        jdk.connect(Handshake.to(proxy.port(), "/").header("X-Forwarded-For", moved))) {
      assertThat(again.nextText()).isIn("backend:ws-2", "backend:ws-3");
    }
    assertThat(connectFailures).extracting(Backend::id).contains("ws-1");
  }

  @Test
  void connectFailure_isReported_andTheNextCandidateServes() throws Exception {
    Router router =
        router().strategy(AffinityStrategy.rendezvous(RoutingKey.header("X-User"))).build();
    ProxyHandle proxy = proxy(router);
    String user = userOwnedBy(router, "ws-2");
    backend("ws-2").stop();
    try (WsClient jetty = client(WsClient.jetty());
        WsSession s = jetty.connect(Handshake.to(proxy.port(), "/").header("X-User", user))) {
      assertThat(s.nextText()).isIn("backend:ws-1", "backend:ws-3");
    }
    assertThat(connectFailures).extracting(Backend::id).containsExactly("ws-2");
  }

  @Test
  void everyCandidateDown_answers502() throws Exception {
    for (int i = 1; i <= 3; i++) {
      DeadPort dead = DeadPort.reserve();
      closeables.add(dead);
      group.update(Backend.of("ws-" + i, "127.0.0.1", dead.port()));
    }
    ProxyHandle proxy = proxy(router().maxFailoverCandidates(2).build());
    assertErrorAnswer(proxy, RawConnection.upgradeRequest("/"), 502);
    assertThat(connectFailures)
        .extracting(Backend::id)
        .containsOnly("ws-1", "ws-2", "ws-3")
        .hasSize(3);
  }

  @Test
  void noBackendUp_answers503() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    group.markDown("ws-1");
    group.markDown("ws-2");
    group.markDown("ws-3");
    assertErrorAnswer(proxy, RawConnection.upgradeRequest("/"), 503);
  }

  @Test
  void rejectingStrategy_answers401() throws Exception {
    AffinityStrategy rejectAll =
        new AffinityStrategy() {
          @Override
          public Selection select(RoutingRequest request, Membership membership) {
            return Selection.reject("no token");
          }

          @Override
          public String name() {
            return "reject-all";
          }
        };
    ProxyHandle proxy = proxy(router().strategy(rejectAll).build());
    assertErrorAnswer(proxy, RawConnection.upgradeRequest("/"), 401);
    assertThat(backends).allSatisfy(b -> assertThat(b.handshakes()).isEmpty());
  }

  @Test
  void backendThatNeverAnswers_answers504AfterTheHandshakeTimeout() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    backends.forEach(b -> b.hang(true));
    assertErrorAnswer(proxy, RawConnection.upgradeRequest("/"), 504);
  }

  /** A backend that took the request and stays silent gets 504 at once; no other is tried. */
  @Test
  void silentBackend_answers504_withoutTryingTheOthers() throws Exception {
    Router router =
        router().strategy(AffinityStrategy.rendezvous(RoutingKey.header("X-User"))).build();
    String user = userOwnedBy(router, "ws-1");
    backend("ws-1").hang(true);
    ProxyHandle proxy =
        proxy(router, ProxySettings.DEFAULTS.withHandshakeTimeout(Duration.ofMillis(500)));
    assertErrorAnswer(proxy, RawConnection.upgradeRequest("/", "X-User: " + user), 504);
    assertThat(connectFailures).extracting(Backend::id).containsExactly("ws-1");
    assertThat(backend("ws-2").handshakes()).isEmpty();
    assertThat(backend("ws-3").handshakes()).isEmpty();
    awaitTrue(() -> totalLive() == 0, "lease of the silent attempt closed");
  }

  /** Host names resolve off the event threads; an unknown one fails over like a refused connect. */
  @Test
  void backendHostNames_areResolved_andAnUnknownOneFailsOver() throws Exception {
    group =
        BackendGroup.of(
            Backend.of("ws-nx", "no-such-host.invalid", 80),
            Backend.of("ws-local", "localhost", backend("ws-2").port()));
    Router router =
        router().strategy(AffinityStrategy.rendezvous(RoutingKey.header("X-User"))).build();
    ProxyHandle proxy = proxy(router);
    WsClient jdk = client(WsClient.jdk());
    try (WsSession s =
        jdk.connect(
            Handshake.to(proxy.port(), "/").header("X-User", userOwnedBy(router, "ws-local")))) {
      assertThat(s.nextText()).isEqualTo("backend:ws-2");
    }
    try (WsSession s =
        jdk.connect(
            Handshake.to(proxy.port(), "/").header("X-User", userOwnedBy(router, "ws-nx")))) {
      assertThat(s.nextText()).isEqualTo("backend:ws-2");
    }
    assertThat(connectFailures).extracting(Backend::id).containsExactly("ws-nx");
  }

  /**
   * A backend that takes the request and then closes has answered nothing: the next candidate
   * serves and the failure is reported. One that answers something that is not HTTP has answered:
   * 502, reported, and no other backend is tried (HAProxy and NGINX do the same by default).
   */
  @Test
  void backendThatClosesBeforeAnswering_failsOver_andOneAnsweringGarbage_gets502()
      throws Exception {
    for (String answer : new String[] {"", "SSH-2.0-OpenSSH\r\n\r\n"}) {
      connectFailures.clear();
      try (ServerSocket rude = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
        Thread acceptor =
            new Thread(
                () -> {
                  try {
                    while (true) {
                      try (Socket s = rude.accept()) {
                        s.getInputStream().read(); // the forwarded head has arrived
                        s.getOutputStream().write(answer.getBytes(StandardCharsets.ISO_8859_1));
                      }
                    }
                  } catch (IOException closed) {
                    // the scenario is over
                  }
                });
        acceptor.setDaemon(true);
        acceptor.start();
        group =
            BackendGroup.of(
                Backend.of("ws-rude", "127.0.0.1", rude.getLocalPort()),
                Backend.of("ws-2", "127.0.0.1", backend("ws-2").port()));
        Router router =
            router().strategy(AffinityStrategy.rendezvous(RoutingKey.header("X-User"))).build();
        ProxyHandle proxy = proxy(router);
        String request =
            RawConnection.upgradeRequest("/", "X-User: " + userOwnedBy(router, "ws-rude"));
        if (answer.isEmpty()) {
          try (RawConnection c = RawConnection.open(proxy.port())) {
            c.send(request);
            assertThat(c.readResponseHead().status()).as("closed: failover").isEqualTo(101);
            assertThat(c.readFrame().text()).isEqualTo("backend:ws-2");
          }
        } else {
          int before = backend("ws-2").handshakes().size();
          assertErrorAnswer(proxy, request, 502);
          assertThat(backend("ws-2").handshakes()).as("no failover after garbage").hasSize(before);
        }
        assertThat(connectFailures).extracting(Backend::id).containsExactly("ws-rude");
      }
    }
  }

  @Test
  void backend401_isRelayedAndClosed() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    try (RawConnection c = RawConnection.open(proxy.port())) {
      c.send(RawConnection.upgradeRequest("/status/401"));
      RawConnection.Response r = c.readResponseHead();
      assertThat(r.status()).isEqualTo(401);
      assertThat(r.header("X-Backend")).startsWith("ws-");
      assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
      assertThat(c.awaitClosed()).isTrue();
    }
    try (WsClient jdk = client(WsClient.jdk())) {
      assertThatThrownBy(() -> jdk.connect(Handshake.to(proxy.port(), "/status/401")))
          .isInstanceOfSatisfying(
              HandshakeFailedException.class, e -> assertThat(e.status()).isEqualTo(401));
    }
  }

  @Test
  void fuzzedMalformedAndOversizedHandshakes_get4xx_andOthersAreUnaffected() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    WsClient jetty = client(WsClient.jetty());
    WsSession bystander = jetty.connect(Handshake.to(proxy.port(), "/"));
    closeables.add(bystander);
    bystander.nextText();
    Random random = new Random(4);
    List<String> cases = new ArrayList<>(HandshakeFuzz.fixedCases());
    for (int i = 0; i < 150; i++) {
      cases.add(HandshakeFuzz.mutate(random));
    }
    for (String request : cases) {
      try (RawConnection c = RawConnection.open(proxy.port())) {
        c.send(request);
        RawConnection.Response r = c.readResponseHead();
        assertThat(r.status())
            .as("answer to %s", HandshakeFuzz.printable(request))
            .isBetween(400, 499);
        assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
        assertThat(c.awaitClosed()).isTrue();
      }
      bystander.sendText("still here");
      assertThat(bystander.nextText()).isEqualTo("still here");
    }
    assertThat(proxy.escapedExceptions()).isEmpty();
  }

  // ---------------------------------------------------------------- pass-through

  @Test
  void subprotocolAndPermessageDeflate_negotiatedByTheBackend_passThrough() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    WsClient jetty = client(WsClient.jetty());
    String big = "compressible ".repeat(20_000);
    try (WsSession s =
        jetty.connect(
            Handshake.to(proxy.port(), "/")
                .subprotocols("echo.v1")
                .extensions("permessage-deflate"))) {
      assertThat(s.subprotocol()).isEqualTo("echo.v1");
      assertThat(s.extensions()).contains("permessage-deflate");
      assertThat(s.nextText()).startsWith("backend:");
      s.sendText(big);
      assertThat(s.nextText()).isEqualTo(big);
    }
    WsClient jdk = client(WsClient.jdk());
    try (WsSession s =
        jdk.connect(Handshake.to(proxy.port(), "/").subprotocols("nope", "echo.v2"))) {
      assertThat(s.subprotocol()).isEqualTo("echo.v2");
      assertThat(s.nextText()).startsWith("backend:");
    }
  }

  @Test
  void frameSentRightAfterThe101_reachesTheClient() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    for (int i = 0; i < 5; i++) {
      try (RawConnection c = RawConnection.open(proxy.port())) {
        c.send(RawConnection.upgradeRequest("/burst"));
        assertThat(c.readResponseHead().status()).isEqualTo(101);
        RawConnection.Frame f = c.readFrame();
        assertThat(f.opcode()).isEqualTo(1);
        assertThat(f.text()).startsWith("backend:ws-");
        c.sendText("after burst");
        assertThat(c.readFrame().text()).isEqualTo("after burst");
      }
    }
    try (WsSession s = client(WsClient.jdk()).connect(Handshake.to(proxy.port(), "/burst"))) {
      assertThat(s.nextText()).startsWith("backend:ws-");
    }
  }

  @Test
  void oneMebibyteMessages_arriveIntactBothWays() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    Random random = new Random(1);
    byte[] binary = new byte[1 << 20];
    random.nextBytes(binary);
    StringBuilder text = new StringBuilder(1 << 20);
    for (int i = 0; i < 1 << 20; i++) {
      text.append((char) ('a' + random.nextInt(26)));
    }
    for (WsClient c : List.of(client(WsClient.jdk()), client(WsClient.jetty()))) {
      try (WsSession s = c.connect(Handshake.to(proxy.port(), "/"))) {
        s.nextText();
        for (int i = 0; i < 3; i++) {
          s.sendBinary(binary);
          assertThat(s.nextBinary()).as("%s binary %d", c.name(), i).isEqualTo(binary);
          s.sendText(text.toString());
          assertThat(s.nextText()).as("%s text %d", c.name(), i).isEqualTo(text.toString());
        }
      }
    }
  }

  @Test
  void halfClose_byTheClient_stillDeliversTheBackendsLastBytes() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    try (RawConnection c = RawConnection.open(proxy.port())) {
      c.send(RawConnection.upgradeRequest("/"));
      assertThat(c.readResponseHead().status()).isEqualTo(101);
      c.readFrame();
      c.sendText("last words");
      c.shutdownOutput();
      assertThat(c.readFrame().text()).isEqualTo("last words");
      assertThat(c.awaitClosed()).isTrue();
    }
  }

  @Test
  void idleTunnel_isClosedAfterTheIdleTimeout() throws Exception {
    ProxyHandle proxy =
        proxy(router().build(), ProxySettings.DEFAULTS.withIdleTimeout(Duration.ofSeconds(1)));
    try (WsSession s = client(WsClient.jdk()).connect(Handshake.to(proxy.port(), "/"))) {
      s.nextText();
      assertThat(s.awaitClosed(WAIT)).isTrue();
    }
    awaitTrue(
        () -> group.liveConnections().values().stream().allMatch(n -> n == 0), "leases closed");
  }

  /**
   * {@code Duration.ZERO} disables the idle timeout on both adapters (the one way to disable it): a
   * tunnel that stays quiet for longer than a short timeout would allow (the backend answers only
   * after 1.5 s) is still open and relays. The same wait with a 300 ms timeout closes the tunnel,
   * so the check can fail.
   */
  @Test
  void idleTimeoutZero_disablesIt() throws Exception {
    ProxyHandle off =
        proxy(router().build(), ProxySettings.DEFAULTS.withIdleTimeout(Duration.ZERO));
    try (RawConnection c = RawConnection.open(off.port())) {
      c.readTimeout(WAIT);
      c.send(RawConnection.upgradeRequest("/"));
      assertThat(c.readResponseHead().status()).isEqualTo(101);
      c.readFrame();
      c.sendText("delay:1500 still here");
      assertThat(c.readFrame().text()).isEqualTo("still here");
    }
    ProxyHandle shortIdle =
        proxy(router().build(), ProxySettings.DEFAULTS.withIdleTimeout(Duration.ofMillis(300)));
    try (RawConnection c = RawConnection.open(shortIdle.port())) {
      c.readTimeout(WAIT);
      c.send(RawConnection.upgradeRequest("/"));
      assertThat(c.readResponseHead().status()).isEqualTo(101);
      c.readFrame();
      c.sendText("delay:1500 too late");
      assertThat(c.awaitClosed()).as("closed by the 300 ms idle timeout").isTrue();
    }
  }

  @Test
  void leases_countOpenTunnels_andAreReleasedWhenEitherSideCloses() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    WsClient jdk = client(WsClient.jdk());
    List<WsSession> open = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      WsSession s = jdk.connect(Handshake.to(proxy.port(), "/"));
      s.nextText();
      open.add(s);
    }
    awaitTrue(() -> totalLive() == 6, "6 live leases, got " + group.liveConnections());
    open.get(0).close();
    open.get(1).close();
    awaitTrue(() -> totalLive() == 4, "4 live leases after 2 client closes");
    backends.forEach(EchoBackend::stop); // the backend side closes the rest
    for (WsSession s : open) {
      assertThat(s.awaitClosed(WAIT)).isTrue();
    }
    awaitTrue(() -> totalLive() == 0, "no live lease, got " + group.liveConnections());
  }

  private int totalLive() {
    return group.liveConnections().values().stream().mapToInt(Integer::intValue).sum();
  }

  // ---------------------------------------------------------------- decide-only

  /**
   * Starts the adapter in decide-only mode (127.0.0.1, ephemeral port) in front of a WebSocket
   * endpoint of the user's own: the adapter routes each handshake and answers a refused or
   * unplaceable one itself; the endpoint gets every other one, runs {@code endpointCalled}, accepts
   * the upgrade, sends one text message {@code backend:<id of the decided backend>}, then echoes.
   * The scenario closes the handle.
   *
   * @throws Exception if the proxy cannot start (the scenario fails)
   */
  protected abstract ProxyHandle startDecideOnly(Router router, Runnable endpointCalled)
      throws Exception;

  private ProxyHandle decideOnly(Router router, Runnable endpointCalled) throws Exception {
    ProxyHandle p = startDecideOnly(router, endpointCalled);
    closeables.add(p);
    return p;
  }

  @Test
  void decideOnly_userEndpointServesTheDecidedBackend_andTheCookieIsSetOnce() throws Exception {
    ProxyHandle proxy = decideOnly(cookieRouter(), () -> {});
    String cookie;
    String first;
    try (RawConnection c = RawConnection.open(proxy.port())) {
      RawConnection.Response r = c.send(RawConnection.upgradeRequest("/chat")).readResponseHead();
      assertThat(r.status()).as("%s", r).isEqualTo(101);
      assertThat(r.headers("Set-Cookie"))
          .singleElement()
          .satisfies(
              v ->
                  assertThat(v)
                      .startsWith(CookieAffinity.DEFAULT_NAME + "=")
                      .endsWith("; Path=/; HttpOnly; SameSite=Lax"));
      cookie = r.headers("Set-Cookie").get(0).split(";", -1)[0];
      first = c.readFrame().text();
    }
    assertThat(first).matches("backend:ws-[123]");
    for (int i = 0; i < 5; i++) {
      try (RawConnection c = RawConnection.open(proxy.port())) {
        RawConnection.Response r =
            c.send(RawConnection.upgradeRequest("/chat", "Cookie: " + cookie)).readResponseHead();
        assertThat(r.status()).isEqualTo(101);
        assertThat(c.readFrame().text()).as("returning client %d", i).isEqualTo(first);
        assertThat(r.headers("Set-Cookie")).as("a returning client keeps its cookie").isEmpty();
      }
    }
    assertThat(backends).allSatisfy(b -> assertThat(b.handshakes()).isEmpty());
  }

  @Test
  void decideOnly_withoutACookie_spreadsOverTheBackends() throws Exception {
    ProxyHandle proxy = decideOnly(cookieRouter(), () -> {});
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 6; i++) {
      try (RawConnection c = RawConnection.open(proxy.port())) {
        assertThat(c.send(RawConnection.upgradeRequest("/chat")).readResponseHead().status())
            .isEqualTo(101);
        seen.add(c.readFrame().text());
      }
    }
    assertThat(seen).containsExactlyInAnyOrder("backend:ws-1", "backend:ws-2", "backend:ws-3");
  }

  @Test
  void decideOnly_rejectedIs401_andNoBackendIs503_theUserEndpointNeverRuns() throws Exception {
    AffinityStrategy rejectingPrivate =
        new AffinityStrategy() {
          @Override
          public Selection select(RoutingRequest request, Membership membership) {
            return "/private".equals(request.path())
                ? Selection.reject("no token")
                : Selection.abstain("public");
          }

          @Override
          public String name() {
            return "reject-private";
          }
        };
    AtomicInteger endpointCalls = new AtomicInteger();
    ProxyHandle proxy =
        decideOnly(router().strategy(rejectingPrivate).build(), endpointCalls::incrementAndGet);
    group.markDown("ws-1");
    group.markDown("ws-2");
    group.markDown("ws-3");
    assertErrorAnswer(proxy, RawConnection.upgradeRequest("/private"), 401);
    assertErrorAnswer(proxy, RawConnection.upgradeRequest("/public"), 503);
    assertThat(endpointCalls.get()).as("the user's endpoint never ran").isZero();
  }

  // ---------------------------------------------------------------- live tunnels

  @Test
  void tunnels_listLiveTunnels_andClosingOneEndsBothLegsAndItsLease() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    WsClient jdk = client(WsClient.jdk());
    WsSession a = jdk.connect(Handshake.to(proxy.port(), "/a?room=7"));
    closeables.add(a);
    String onA = a.nextText().substring("backend:".length());
    TunnelView ta = onlyNewTunnel(proxy, Set.of());
    WsSession b = jdk.connect(Handshake.to(proxy.port(), "/b"));
    closeables.add(b);
    b.nextText();
    awaitTrue(() -> proxy.tunnels().size() == 2, "two tunnels listed");
    assertThat(proxy.tunnels()).contains(ta);
    assertThat(ta.backendId()).isEqualTo(onA);
    assertThat(ta.isOpen()).isTrue();
    ta.close(); // from the test thread, not the adapter's
    ta.close(); // idempotent
    assertThat(a.awaitClosed(WAIT)).isTrue();
    awaitTrue(() -> !ta.isOpen(), "the closed tunnel reads closed");
    awaitTrue(() -> proxy.tunnels().size() == 1, "one tunnel left listed");
    awaitTrue(() -> totalLive() == 1, "one lease left, got " + group.liveConnections());
    b.sendText("unaffected");
    assertThat(b.nextText()).isEqualTo("unaffected");
  }

  @Test
  void closeWithCode_reachesTheClientAsACloseFrame_evenDuringAFlood() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    WsClient jetty = client(WsClient.jetty());
    WsSession idle = jetty.connect(Handshake.to(proxy.port(), "/idle"));
    closeables.add(idle);
    idle.nextText();
    TunnelView idleTunnel = onlyNewTunnel(proxy, Set.of());
    WsSession busy = jetty.connect(Handshake.to(proxy.port(), "/busy"));
    closeables.add(busy);
    busy.nextText();
    TunnelView busyTunnel = onlyNewTunnel(proxy, Set.of(idleTunnel));

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
      WsMessage m;
      try {
        m = busy.next(WAIT);
      } catch (AssertionError closed) {
        break;
      }
      assertThat(m.binary()).hasSize(EchoBackend.FLOOD_FRAME_SIZE);
      messages++;
    }
    assertThat(busy.closeStatus()).as("after %d whole messages", messages).isEqualTo(1001);
    awaitTrue(() -> totalLive() == 0, "leases closed, got " + group.liveConnections());
    assertThatThrownBy(() -> busyTunnel.close(999, "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("webSocketCode: 999 (expected: 1000..4999, not 1005, 1006 or 1015)");
  }

  @Test
  void lifecycleMaxLifetime_closesTheTunnelThroughItsLease() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    ConnectionLifecycle lifecycle =
        ConnectionLifecycle.builder(group)
            .maxLifetime(Duration.ofMillis(300), Duration.ZERO)
            .scanInterval(Duration.ofMillis(50))
            .build()
            .start();
    closeables.add(lifecycle);
    WsSession s = client(WsClient.jdk()).connect(Handshake.to(proxy.port(), "/"));
    closeables.add(s);
    // No read of the backend's greeting first: on a loaded machine the lifetime may end before it
    // is relayed, and the close frame then comes first, which is correct too.
    assertThat(s.awaitClosed(WAIT)).isTrue();
    assertThat(s.closeStatus()).as("1012 service restart").isEqualTo(1012);
    awaitTrue(() -> proxy.tunnels().isEmpty(), "tunnel closed");
    awaitTrue(() -> totalLive() == 0, "lease closed, got " + group.liveConnections());
  }

  /** The one live tunnel not in {@code known}. */
  private static TunnelView onlyNewTunnel(ProxyHandle proxy, Set<TunnelView> known)
      throws InterruptedException {
    // The client may read the 101 a moment before the adapter lists the tunnel.
    awaitTrue(
        () -> proxy.tunnels().stream().anyMatch(t -> !known.contains(t)), "a new tunnel listed");
    List<TunnelView> fresh = proxy.tunnels().stream().filter(t -> !known.contains(t)).toList();
    assertThat(fresh).hasSize(1);
    return fresh.get(0);
  }

  // ---------------------------------------------------------------- load and back-pressure

  @Test
  void thousandConcurrentConnections_eachEchoingHundredMessages_allCorrect() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    WsClient jdk = client(WsClient.jdk());
    int connections = 1000;
    int messages = 100;
    List<WsSession> sessions = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(16); // bounds handshake concurrency too
    try {
      List<Future<WsSession>> opening = new ArrayList<>();
      for (int i = 0; i < connections; i++) {
        opening.add(
            pool.submit(
                () -> {
                  WsSession s = jdk.connect(Handshake.to(proxy.port(), "/"));
                  assertThat(s.nextText()).startsWith("backend:ws-");
                  return s;
                }));
      }
      for (Future<WsSession> f : opening) {
        WsSession s = f.get(120, TimeUnit.SECONDS);
        sessions.add(s);
        closeables.add(s);
      }
      assertThat(totalLive()).isEqualTo(connections);
      List<Future<?>> echoing = new ArrayList<>();
      for (int i = 0; i < connections; i++) {
        WsSession s = sessions.get(i);
        String prefix = "c" + i + "-";
        echoing.add(
            pool.submit(
                () -> {
                  for (int m = 0; m < messages; m++) {
                    s.sendText(prefix + m);
                  }
                  for (int m = 0; m < messages; m++) {
                    assertThat(s.nextText()).isEqualTo(prefix + m);
                  }
                  return null;
                }));
      }
      for (Future<?> f : echoing) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(group.liveConnections().values()).allSatisfy(n -> assertThat(n).isPositive());
  }

  /**
   * A client that stops reading while the backend floods it. With back-pressure the proxy stops
   * reading from the backend once its client-side buffer is full, so the backend's own channel
   * stays unwritable: what it managed to send is bounded by the socket buffers of the three legs
   * plus the proxy's write-buffer high water mark, far below the flood.
   */
  @Test
  void clientThatStopsReading_doesNotMakeTheProxyBufferWithoutBound() throws Exception {
    ProxyHandle proxy = proxy(router().build());
    long flood = 512L * 1024 * 1024;
    long bound = 64L * 1024 * 1024;
    try (RawConnection c = RawConnection.open(proxy.port(), 64 * 1024)) {
      c.send(RawConnection.upgradeRequest("/"));
      assertThat(c.readResponseHead().status()).isEqualTo(101);
      EchoBackend b = backend(c.readFrame().text().substring("backend:".length()));
      c.sendText("flood:" + flood);
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (b.floodStalledNanos() < TimeUnit.SECONDS.toNanos(1)) {
        assertThat(b.floodBytesSent()).as("bytes the backend got rid of").isLessThan(bound);
        assertThat(System.nanoTime()).as("flood stalls within %s", WAIT).isLessThan(deadline);
        Thread.sleep(20);
      }
      assertThat(b.floodBytesSent()).isLessThan(bound);
    }
  }

  // ---------------------------------------------------------------- helpers

  /** A value of {@code X-User} that {@code router} sends to {@code owner}. */
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

  /** Sends {@code request} raw and expects {@code status}, {@code Connection: close}, a close. */
  protected static void assertErrorAnswer(ProxyHandle proxy, String request, int status) {
    try (RawConnection c = RawConnection.open(proxy.port())) {
      c.send(request);
      RawConnection.Response r = c.readResponseHead();
      assertThat(r.status()).as(r.statusLine()).isEqualTo(status);
      assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
      assertThat(c.awaitClosed()).as("closed after %d", status).isTrue();
    }
  }

  /**
   * Waits up to {@link #WAIT} until {@code condition} holds ({@link Await#until}).
   *
   * @throws InterruptedException never; kept so that callers' signatures stay valid
   */
  protected static void awaitTrue(BooleanSupplier condition, String what)
      throws InterruptedException {
    Await.until(what, WAIT, condition);
  }
}

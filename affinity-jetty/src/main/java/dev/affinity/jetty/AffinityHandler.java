package dev.affinity.jetty;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.SetCookie;
import dev.affinity.backend.Backend;
import dev.affinity.client.Cidr;
import dev.affinity.internal.http.AdapterSettings;
import dev.affinity.internal.http.ErrorAnswer;
import dev.affinity.internal.http.ForwardedHeaders;
import dev.affinity.internal.http.HandshakeRules;
import dev.affinity.internal.http.HttpScope;
import dev.affinity.internal.http.TunnelAccounting;
import dev.affinity.internal.tls.PemTls;
import dev.affinity.metrics.TunnelListener;
import dev.affinity.strategy.LearnedAffinity;
import dev.affinity.strategy.LearnedStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.http.HttpCookie;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.component.Graceful;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.Scheduler;
import org.jspecify.annotations.Nullable;

/**
 * A Jetty 12.1 {@link Handler.Wrapper} that routes WebSocket handshakes with a {@link Router} and
 * tunnels them to the chosen backend; every other request goes to the wrapped handler, or, with
 * {@link Builder#proxyHttp} or {@link Builder#proxyHttpPaths}, is routed by the same router and
 * proxied to the chosen backend too (Socket.IO polling, Server-Sent Events, REST).
 *
 * <pre>{@code
 * AffinityHandler affinity = AffinityHandler.builder(router)
 *     .idleTimeout(Duration.ofMinutes(10))
 *     .build();
 * affinity.setHandler(myOtherHandler);   // optional: plain HTTP requests go here
 * server.setHandler(affinity);
 * }</pre>
 *
 * <p>A request that is not a WebSocket attempt, and not in the plain-HTTP scope, goes to the
 * wrapped handler; without one it is answered {@code 426 Upgrade Required} with {@code Upgrade:
 * websocket}, as the Netty adapter does by default. One in the plain-HTTP scope is routed with the
 * same request view and proxied by Jetty's own {@code ProxyHandler} over pooled keep-alive
 * connections, with the affinity cookie added to its response (see {@code docs/jetty.md}, "Plain
 * HTTP"). For each WebSocket upgrade request it works the way NGINX and HAProxy do, <em>handshake
 * first, then tunnel</em>:
 *
 * <ol>
 *   <li>validates the request (GET over HTTP/1.1, {@code Upgrade: websocket}, {@code Connection:
 *       upgrade}, one {@code Host}, the request target, a 16-byte {@code Sec-WebSocket-Key}, {@code
 *       Sec-WebSocket-Version: 13}, no body, no control characters, bounded head size and field
 *       count, by the rules both adapters share): 400 when malformed, 426 for another version, 431
 *       when too large;
 *   <li>asks the router; {@link dev.affinity.Outcome#REJECTED} is answered 401 and {@link
 *       dev.affinity.Outcome#NO_BACKEND} 503;
 *   <li>connects to the backend without blocking, trying {@link
 *       RoutingDecision#failoverCandidates()} in order when connecting fails or the backend closes
 *       before answering, and telling the router through {@link Router#reportConnectFailure}; 502
 *       when all fail, 504 when a backend took the request and did not answer in time;
 *   <li>forwards the request head unchanged, plus {@code X-Forwarded-For}, {@code
 *       X-Forwarded-Proto} and {@code Forwarded};
 *   <li>waits for the backend's response head; a 101 is relayed with the decision's affinity cookie
 *       added next to the backend's own {@code Set-Cookie}s, anything else is relayed as it is and
 *       the connection closed. The client never sees a 101 before the backend has sent one;
 *   <li>takes over the client's connection and relays bytes both ways with one buffer in flight per
 *       direction, half-close, close propagation and long idle timeouts on both legs.
 * </ol>
 *
 * <p>The decision is stored in the request attribute {@link #DECISION_ATTRIBUTE} (read it with
 * {@link #decision(Request)}). In {@link Mode#DECIDE_ONLY} the handler only decides, adds the
 * cookie and calls the wrapped handler, so a WebSocket endpoint of your own serves the connection.
 *
 * <p>Needs an HTTP/1.1 connector; add {@code ProxyConnectionFactory} in front of it to receive the
 * PROXY protocol (see {@link AffinityServer}). A built handler is immutable apart from the wrapped
 * handler, and is thread-safe.
 */
public final class AffinityHandler extends Handler.Wrapper implements Graceful {
  /** The request attribute holding the {@link RoutingDecision} of a WebSocket handshake. */
  public static final String DECISION_ATTRIBUTE = "dev.affinity.jetty.decision";

  /** Default {@link Builder#connectTimeout}: 5 seconds (both adapters). */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = AdapterSettings.DEFAULT_CONNECT_TIMEOUT;

  /** Default {@link Builder#handshakeTimeout}: 10 seconds (both adapters). */
  public static final Duration DEFAULT_HANDSHAKE_TIMEOUT =
      AdapterSettings.DEFAULT_HANDSHAKE_TIMEOUT;

  /**
   * Default {@link Builder#idleTimeout}: 1 hour (both adapters), because Jetty's connector default
   * of 30 seconds would close quiet WebSockets.
   */
  public static final Duration DEFAULT_IDLE_TIMEOUT = AdapterSettings.DEFAULT_IDLE_TIMEOUT;

  /** Default {@link Builder#requestHeadTimeout}: 10 seconds (both adapters), then 408. */
  public static final Duration DEFAULT_REQUEST_HEAD_TIMEOUT =
      ErrorAnswer.DEFAULT_REQUEST_HEAD_TIMEOUT;

  /** Default {@link Builder#bufferSize}: 16 KiB per direction while bytes flow. */
  public static final int DEFAULT_BUFFER_SIZE = 16 * 1024;

  /** Default {@link Builder#maxRequestHeadBytes}: 8 KiB, Jetty's own request header limit. */
  public static final int DEFAULT_MAX_HEAD_BYTES = 8 * 1024;

  /** Default {@link Builder#maxHeaderCount}: 100 header fields (both adapters). */
  public static final int DEFAULT_MAX_HEADER_COUNT = HandshakeRules.DEFAULT_MAX_HEADER_COUNT;

  /**
   * Default {@link Builder#maxErrorBodyBytes}: 64 KiB of a backend's non-101 response body (both
   * adapters).
   */
  public static final int DEFAULT_MAX_ERROR_BODY_BYTES =
      HandshakeRules.DEFAULT_MAX_ERROR_BODY_BYTES;

  /** Default {@link Builder#httpMaxConnectionsPerBackend}: 64 (both adapters). */
  public static final int DEFAULT_HTTP_MAX_CONNECTIONS_PER_BACKEND =
      AdapterSettings.DEFAULT_HTTP_MAX_CONNECTIONS_PER_BACKEND;

  /**
   * Default {@link Builder#httpResponseTimeout}: 60 seconds (both adapters), longer than
   * Engine.IO's 25 s long poll.
   */
  public static final Duration DEFAULT_HTTP_RESPONSE_TIMEOUT =
      AdapterSettings.DEFAULT_HTTP_RESPONSE_TIMEOUT;

  /** Default {@link Builder#httpPoolIdleTimeout}: 30 seconds (both adapters). */
  public static final Duration DEFAULT_HTTP_POOL_IDLE_TIMEOUT =
      AdapterSettings.DEFAULT_HTTP_POOL_IDLE_TIMEOUT;

  /** Default {@link Builder#httpMaxRequestBodyBytes}: 10 MiB (both adapters). */
  public static final long DEFAULT_HTTP_MAX_REQUEST_BODY_BYTES =
      AdapterSettings.DEFAULT_HTTP_MAX_REQUEST_BODY_BYTES;

  /** What the handler does with a routed WebSocket handshake. */
  public enum Mode {
    /** Connect to the chosen backend, relay its handshake and tunnel the connection (default). */
    PROXY,
    /**
     * Only decide: store the decision in {@link #DECISION_ATTRIBUTE}, add the affinity cookie to
     * the response, and pass the request to the wrapped handler (your own WebSocket endpoint).
     * Rejected and no-backend decisions are still answered 401 and 503. The wrapped handler owns
     * the connection, so it takes a {@linkplain
     * RoutingDecision#openLease(dev.affinity.backend.Backend,
     * dev.affinity.backend.ConnectionCloser) lease} if it wants the backend's live count to include
     * it.
     */
    DECIDE_ONLY
  }

  private final Router router;
  private final Mode mode;
  private final Duration connectTimeout;
  private final Duration handshakeTimeout;
  private final Duration idleTimeout;
  private final int bufferSize;
  private final int maxRequestHeadBytes;
  private final int maxHeaderCount;
  private final int maxResponseHeadBytes;
  private final int maxErrorBodyBytes;
  private final boolean forwardedHeaders;
  private final ForwardedHeaders forwarding;
  private final @Nullable ClientConnector connector;
  private final SslContextFactory.@Nullable Client backendTls;
  private final TunnelListener tunnelListener;
  private final @Nullable LearnedAffinity learnedAffinity;
  private final @Nullable ByteBufferPool configuredBuffers;
  private volatile @Nullable ByteBufferPool serverSuppliedBuffers;
  private volatile @Nullable ByteBufferPool buffers;
  private final Set<LiveTunnel> tunnels = ConcurrentHashMap.newKeySet();
  private @Nullable BackendConnector backends;
  private final Duration requestHeadTimeout;
  private volatile @Nullable RequestHeadTimeout headTimeout;
  private volatile boolean stopping;
  private final CompletableFuture<Void> shutdownDone = new CompletableFuture<>();
  private final HttpScope httpScope;
  private final @Nullable PlainHttpProxy httpProxy;
  private final int httpMaxConnectionsPerBackend;
  private final Duration httpResponseTimeout;
  private final Duration httpPoolIdleTimeout;
  private final long httpMaxRequestBodyBytes;

  private AffinityHandler(Builder b) {
    this.router = b.router;
    this.mode = b.mode;
    this.connectTimeout = b.connectTimeout;
    this.handshakeTimeout = b.handshakeTimeout;
    this.idleTimeout = b.idleTimeout;
    this.bufferSize = b.bufferSize;
    this.maxRequestHeadBytes = b.maxRequestHeadBytes;
    this.maxHeaderCount = b.maxHeaderCount;
    this.maxResponseHeadBytes = b.maxResponseHeadBytes;
    this.maxErrorBodyBytes = b.maxErrorBodyBytes;
    this.forwardedHeaders = b.forwardedHeaders;
    this.requestHeadTimeout = b.requestHeadTimeout;
    this.forwarding = ForwardedHeaders.trusting(b.trustedProxies);
    this.tunnelListener = b.tunnelListener;
    this.learnedAffinity = b.learnedAffinity;
    this.configuredBuffers = b.buffers;
    this.httpScope = b.httpScope;
    this.httpMaxConnectionsPerBackend = b.httpMaxConnectionsPerBackend;
    this.httpResponseTimeout = b.httpResponseTimeout;
    this.httpPoolIdleTimeout = b.httpPoolIdleTimeout;
    this.httpMaxRequestBodyBytes = b.httpMaxRequestBodyBytes;
    if (mode == Mode.PROXY && !httpScope.isNone()) {
      PlainHttpProxy p =
          new PlainHttpProxy(
              this,
              httpMaxConnectionsPerBackend,
              httpResponseTimeout,
              httpPoolIdleTimeout,
              httpMaxRequestBodyBytes,
              b.backendSslContext);
      this.httpProxy = p;
      addBean(p, true); // started after the buffers are chosen (doStart), stopped with us
    } else {
      this.httpProxy = null;
    }
    if (mode == Mode.PROXY) {
      ClientConnector c = new ClientConnector();
      c.setConnectTimeout(connectTimeout);
      c.setIdleTimeout(idleTimeout);
      c.setTCPNoDelay(true);
      this.connector = c;
      addBean(c, true);
      SslContextFactory.Client tls = new SslContextFactory.Client();
      SSLContext context = b.backendSslContext;
      tls.setSslContext(context != null ? context : PemTls.defaultClientContext());
      tls.setEndpointIdentificationAlgorithm("HTTPS");
      tls.setIncludeProtocols(PemTls.PROTOCOLS.toArray(new String[0]));
      this.backendTls = tls;
      addBean(tls, true);
    } else {
      this.connector = null;
      this.backendTls = null;
    }
  }

  /** Returns a builder for a handler that routes with {@code router}. */
  public static Builder builder(Router router) {
    return new Builder(requireNonNull(router, "router"));
  }

  /**
   * The decision made for {@code request}, or null when the handler has not routed it (neither a
   * WebSocket handshake nor a plain request it proxies, or rejected as malformed).
   */
  public static @Nullable RoutingDecision decision(Request request) {
    Object d = requireNonNull(request, "request").getAttribute(DECISION_ATTRIBUTE);
    return d instanceof RoutingDecision ? (RoutingDecision) d : null;
  }

  @Override
  protected void doStart() throws Exception {
    // Tunnel and backend buffers never come from the server's pool: Jetty 12.1's HTTP/1 parser
    // can hand a request buffer back to its pool twice after a malformed request (an oversized
    // head under load), after which two connections share one buffer. Relayed bytes stay apart.
    ByteBufferPool pool = configuredBuffers;
    if (pool == null) {
      pool = serverSuppliedBuffers;
    }
    if (pool == null) {
      pool = new ArrayByteBufferPool();
    }
    buffers = pool;
    ClientConnector c = connector;
    if (c != null) {
      // Share the server's threads and timers rather than starting a second set.
      if (c.getExecutor() == null) {
        c.setExecutor(getServer().getThreadPool());
      }
      if (c.getScheduler() == null) {
        c.setScheduler(getServer().getScheduler());
      }
      c.setByteBufferPool(pool);
      backends =
          new BackendConnector(this, c, getServer().getScheduler(), requireNonNull(backendTls));
    }
    RequestHeadTimeout t = new RequestHeadTimeout(getServer().getScheduler(), requestHeadTimeout);
    for (org.eclipse.jetty.server.Connector connector : getServer().getConnectors()) {
      connector.addEventListener(t);
    }
    headTimeout = t;
    PlainHttpProxy http = httpProxy;
    if (http != null && http.getServer() == null) {
      http.setServer(getServer());
    }
    super.doStart();
  }

  @Override
  protected void doStop() throws Exception {
    for (LiveTunnel t : tunnels) {
      t.close(); // past the graceful phase (or without one): TCP close
    }
    super.doStop();
  }

  /**
   * Jetty's graceful stop (a server with a stop timeout, as {@link AffinityServer} sets): new
   * handshakes get 503 {@code proxy is stopping}, and every open tunnel gets a 1001 close frame
   * between two backend frames. Completes when every tunnel is closed.
   */
  @Override
  public CompletableFuture<Void> shutdown() {
    stopping = true;
    for (LiveTunnel t : tunnels) {
      t.close(ErrorAnswer.SHUTDOWN_CLOSE_CODE, ErrorAnswer.PROXY_STOPPING);
    }
    PlainHttpProxy http = httpProxy;
    boolean httpIdle = http == null || http.shutdown();
    if (tunnels.isEmpty() && httpIdle) {
      shutdownDone.complete(null);
    }
    return shutdownDone;
  }

  @Override
  public boolean isShutdown() {
    return shutdownDone.isDone();
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    RequestHeadTimeout t = headTimeout;
    if (t != null) {
      t.arrived(request.getConnectionMetaData().getConnection().getEndPoint());
    }
    if (!UpgradeRequests.isWebSocketAttempt(request)) {
      PlainHttpProxy http = httpProxy;
      if (http != null && httpScope.covers(pathOf(request))) {
        return http.forward(request, response, callback);
      }
      if (getHandler() == null) {
        // As the Netty adapter's default, and as a WebSocket server behind HAProxy or NGINX
        // answers a plain GET: 426 with Upgrade: websocket, rather than a bare 404.
        Errors.respond(
            request,
            response,
            callback,
            HttpStatus.UPGRADE_REQUIRED_426,
            HandshakeRules.UPGRADE_REQUIRED);
        return true;
      }
      return super.handle(request, response, callback);
    }
    HandshakeRules.Problem problem =
        UpgradeRequests.validate(request, maxRequestHeadBytes, maxHeaderCount);
    if (problem != null) {
      Errors.respond(request, response, callback, problem.status(), problem.message());
      return true;
    }
    if (stopping) {
      Errors.respond(
          request,
          response,
          callback,
          HttpStatus.SERVICE_UNAVAILABLE_503,
          ErrorAnswer.PROXY_STOPPING);
      return true;
    }
    JettyRoutingRequest view = new JettyRoutingRequest(request);
    RoutingDecision decision = router.select(view);
    TunnelAccounting accounting = new TunnelAccounting();
    request.setAttribute(DECISION_ATTRIBUTE, decision);
    if (!decision.hasBackend()) {
      Errors.respond(
          request, response, callback, decision.httpStatus(), ErrorAnswer.forDecision(decision));
      if (mode == Mode.PROXY) {
        answered(decision, accounting, decision.httpStatus());
      }
      return true;
    }
    if (mode == Mode.DECIDE_ONLY) {
      // Your endpoint may keep the decision past this exchange; Jetty recycles its request.
      Request.addCompletionListener(request, failure -> view.detach(false));
      SetCookie cookie = decision.cookie();
      if (cookie != null) {
        response.getHeaders().add(HttpHeader.SET_COOKIE, cookie.toHeaderValue());
      }
      return super.handle(request, response, callback);
    }
    BackendConnector b = backends;
    if (b == null) { // handled before doStart: Jetty does not do that, but never NPE on it
      Errors.respond(request, response, callback, 503, "proxy not started");
      return true;
    }
    new ProxyExchange(this, b, request, response, callback, decision, view, accounting).start();
    return true;
  }

  /**
   * The tunnels open right now: a live, unmodifiable view. Closing one closes both its legs and its
   * lease; use it to enforce a drain deadline or to move clients off a backend.
   */
  public java.util.Collection<Tunnel> tunnels() {
    return Collections.unmodifiableSet(tunnels);
  }

  /** The router this handler asks. */
  public Router router() {
    return router;
  }

  /** The mode this handler runs in. */
  public Mode mode() {
    return mode;
  }

  static HttpCookie toHttpCookie(SetCookie c) {
    HttpCookie.Builder b =
        HttpCookie.build(c.name(), c.value())
            .path(c.path())
            .secure(c.secure())
            .httpOnly(c.httpOnly())
            .sameSite(HttpCookie.SameSite.from(c.sameSite().attributeValue()));
    if (c.domain() != null) {
      b.domain(c.domain());
    }
    Duration maxAge = c.maxAge();
    if (maxAge != null) {
      b.maxAge(maxAge.toSeconds());
    }
    return b.build();
  }

  /** Hears each routed handshake's answer and each tunnel's end (see the builder's option). */
  TunnelListener tunnelListener() {
    return tunnelListener;
  }

  /**
   * What a backend's 101 teaches the learned affinity, if one is configured: the hold to close when
   * the tunnel ends. Called while the request view can still read the handshake; never throws.
   */
  LearnedStore.Hold learn(RoutingDecision decision, Backend connected, HttpFields fields) {
    LearnedAffinity learned = learnedAffinity;
    if (learned == null) {
      return NOTHING_HELD;
    }
    return learned.learn(decision.request(), connected, fields::getValuesList);
  }

  private static final LearnedStore.Hold NOTHING_HELD = () -> {};

  /** Reports a handshake's answer to the tunnel listener, once. */
  void answered(RoutingDecision decision, TunnelAccounting accounting, int status) {
    Duration took = accounting.answered();
    if (took != null) {
      TunnelAccounting.notify(() -> tunnelListener.handshakeAnswered(decision, status, took));
    }
  }

  void opened(LiveTunnel t) {
    tunnels.add(t);
  }

  void closed(LiveTunnel t) {
    tunnels.remove(t);
    completeShutdownIfIdle();
  }

  /** A proxied plain request ended (answered, failed or aborted). */
  void httpExchangeEnded() {
    completeShutdownIfIdle();
  }

  private void completeShutdownIfIdle() {
    PlainHttpProxy http = httpProxy;
    if (stopping && tunnels.isEmpty() && (http == null || http.isIdle())) {
      shutdownDone.complete(null);
    }
  }

  /** Open plain-HTTP connections to {@code backend} (tests). */
  int httpConnectionsTo(Backend backend) {
    PlainHttpProxy http = httpProxy;
    return http == null ? 0 : http.connectionsTo(backend);
  }

  /** Whether a graceful stop has begun: new requests get 503 {@code proxy is stopping}. */
  boolean isShuttingDown() {
    return stopping;
  }

  private static String pathOf(Request request) {
    String p = request.getHttpURI().getPath();
    return p == null || p.isEmpty() ? "/" : p;
  }

  Scheduler scheduler() {
    return getServer().getScheduler();
  }

  Duration connectTimeout() {
    return connectTimeout;
  }

  Duration handshakeTimeout() {
    return handshakeTimeout;
  }

  Duration idleTimeout() {
    return idleTimeout;
  }

  int bufferSize() {
    return bufferSize;
  }

  /** The pool tunnel and backend-connection buffers come from; set when the handler starts. */
  ByteBufferPool buffers() {
    return requireNonNull(buffers, "buffers (the handler is not started)");
  }

  /**
   * The pool {@link AffinityServer} offers for tunnel buffers when the handler's builder named
   * none; read when the handler starts.
   */
  void offerBuffers(ByteBufferPool pool) {
    this.serverSuppliedBuffers = pool;
  }

  int maxRequestHeadBytes() {
    return maxRequestHeadBytes;
  }

  int maxHeaderCount() {
    return maxHeaderCount;
  }

  int maxResponseHeadBytes() {
    return maxResponseHeadBytes;
  }

  int maxErrorBodyBytes() {
    return maxErrorBodyBytes;
  }

  boolean forwardedHeaders() {
    return forwardedHeaders;
  }

  ForwardedHeaders forwarding() {
    return forwarding;
  }

  /**
   * The peers whose forwarded headers and PROXY protocol source are believed when writing the
   * backend's forwarded headers; empty (the default) trusts nobody.
   */
  public List<Cidr> trustedProxies() {
    return forwarding.trustedProxies();
  }

  @Override
  public String toString() {
    return "AffinityHandler{mode="
        + mode
        + ", router="
        + router
        + ", connectTimeout="
        + connectTimeout
        + ", handshakeTimeout="
        + handshakeTimeout
        + ", idleTimeout="
        + idleTimeout
        + ", tunnels="
        + tunnels.size()
        + "}";
  }

  /**
   * Builds an {@link AffinityHandler}. Obtain one from {@link AffinityHandler#builder(Router)}.
   *
   * <p>Every setter validates its argument and throws {@link
   * dev.affinity.AffinityConfigurationException} naming the field; defaults are the {@code
   * DEFAULT_*} constants of {@link AffinityHandler}.
   */
  public static final class Builder {
    private final Router router;
    private Mode mode = Mode.PROXY;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration handshakeTimeout = DEFAULT_HANDSHAKE_TIMEOUT;
    private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
    private int bufferSize = DEFAULT_BUFFER_SIZE;
    private int maxRequestHeadBytes = DEFAULT_MAX_HEAD_BYTES;
    private int maxHeaderCount = DEFAULT_MAX_HEADER_COUNT;
    private int maxResponseHeadBytes = DEFAULT_MAX_HEAD_BYTES;
    private int maxErrorBodyBytes = DEFAULT_MAX_ERROR_BODY_BYTES;
    private boolean forwardedHeaders = true;
    private final List<Cidr> trustedProxies = new ArrayList<>();
    private Duration requestHeadTimeout = DEFAULT_REQUEST_HEAD_TIMEOUT;
    private @Nullable SSLContext backendSslContext;
    private TunnelListener tunnelListener = TunnelListener.NONE;
    private @Nullable LearnedAffinity learnedAffinity;
    private @Nullable ByteBufferPool buffers;
    private HttpScope httpScope = HttpScope.none();
    private int httpMaxConnectionsPerBackend = DEFAULT_HTTP_MAX_CONNECTIONS_PER_BACKEND;
    private Duration httpResponseTimeout = DEFAULT_HTTP_RESPONSE_TIMEOUT;
    private Duration httpPoolIdleTimeout = DEFAULT_HTTP_POOL_IDLE_TIMEOUT;
    private long httpMaxRequestBodyBytes = DEFAULT_HTTP_MAX_REQUEST_BODY_BYTES;

    /**
     * Whether plain HTTP requests (not WebSocket attempts) are routed and proxied too: Socket.IO
     * and SockJS polling, Server-Sent Events, REST calls. With {@code true} every plain request
     * goes through the same router, strategies and affinity cookie as the handshakes, to pooled
     * keep-alive connections of the chosen backend; with {@code false} (default) plain requests go
     * to the wrapped handler, or get 426, as before. Proxy mode only. The same option as the Netty
     * adapter's. See {@link #proxyHttpPaths} to proxy only some paths.
     */
    public Builder proxyHttp(boolean enabled) {
      this.httpScope = enabled ? HttpScope.all() : HttpScope.none();
      return this;
    }

    /**
     * Proxies plain HTTP requests (as {@link #proxyHttp}) only when their path is one of {@code
     * prefixes} or lies under it, segment by segment: {@code "/socket.io"}, {@code "/socket.io/"}
     * and {@code "/socket.io/*"} all mean {@code /socket.io} and everything under it, but not
     * {@code /socket.iox}. The others go to the wrapped handler or get 426. Replaces an earlier
     * {@code proxyHttp} or {@code proxyHttpPaths}. The same option as the Netty adapter's.
     *
     * @throws dev.affinity.AffinityConfigurationException if none is given, or a prefix does not
     *     start with {@code /} or holds {@code ?}, {@code #}, {@code *} (other than a trailing
     *     {@code /*}) or a space
     */
    public Builder proxyHttpPaths(String... prefixes) {
      this.httpScope = HttpScope.paths(List.of(prefixes));
      return this;
    }

    /**
     * The most connections to one backend the plain-HTTP path keeps open at once; requests beyond
     * it wait for a free one, within {@link #httpResponseTimeout}. At most 1,024 requests wait per
     * backend; beyond that a request is treated as a connect failure (reported, next candidate).
     *
     * @throws dev.affinity.AffinityConfigurationException unless 1 to 10,000
     */
    public Builder httpMaxConnectionsPerBackend(int connections) {
      this.httpMaxConnectionsPerBackend = AdapterSettings.httpMaxConnectionsPerBackend(connections);
      return this;
    }

    /**
     * How long a proxied plain request may wait for its backend's response head, counted from the
     * moment the whole request was sent (waiting for a pooled connection counts too); then 504
     * {@code backend did not answer in time}. A streaming response (an SSE stream, a long download)
     * is not limited by it once its head arrived: the {@link #idleTimeout} watches it. Set it above
     * your long-poll interval (Socket.IO: 25 s).
     *
     * @throws dev.affinity.AffinityConfigurationException unless between 1 ms and 1 hour
     */
    public Builder httpResponseTimeout(Duration timeout) {
      this.httpResponseTimeout = AdapterSettings.httpResponseTimeout(timeout);
      return this;
    }

    /**
     * How long a pooled backend connection of the plain-HTTP path may sit idle before it is closed;
     * {@link Duration#ZERO} keeps it until the backend closes it.
     *
     * @throws dev.affinity.AffinityConfigurationException unless zero or between 1 ms and 7 days
     */
    public Builder httpPoolIdleTimeout(Duration timeout) {
      this.httpPoolIdleTimeout = AdapterSettings.httpPoolIdleTimeout(timeout);
      return this;
    }

    /**
     * The largest request body the plain-HTTP path forwards: a larger {@code Content-Length} gets
     * 413 before any backend is asked; a chunked body that grows past it gets 413 if the backend
     * has not answered yet, else the exchange is cut.
     *
     * @throws dev.affinity.AffinityConfigurationException unless at least 1
     */
    public Builder httpMaxRequestBodyBytes(long bytes) {
      this.httpMaxRequestBodyBytes = AdapterSettings.httpMaxRequestBodyBytes(bytes);
      return this;
    }

    /**
     * How long a new connection may take to send a complete request head; past it the client gets
     * 408 and the connection is closed, whether it sent nothing or trickles bytes (Jetty's idle
     * timeout resets on every byte). The same setting and default as the Netty adapter's. Applies
     * to the connectors of the server the handler runs on.
     *
     * @throws dev.affinity.AffinityConfigurationException unless between 1 ms and 1 hour
     */
    public Builder requestHeadTimeout(Duration timeout) {
      this.requestHeadTimeout = AdapterSettings.timeout("requestHeadTimeout", timeout);
      return this;
    }

    private Builder(Router router) {
      this.router = router;
    }

    /**
     * Adds trusted proxy ranges in CIDR notation ({@code 10.0.0.0/8}, {@code ::1}): the load
     * balancers in front of this one. Their {@code X-Forwarded-*} and {@code Forwarded} headers are
     * kept and appended to, and their PROXY protocol source is written as the client; from anyone
     * else those headers are replaced. Usually the same ranges as the router's {@code
     * ClientAddressResolver}. Default: none.
     *
     * @throws dev.affinity.AffinityConfigurationException if a range does not parse
     */
    public Builder trustedProxies(String... cidrs) {
      for (String c : cidrs) {
        trustedProxies.add(Cidr.parse(c));
      }
      return this;
    }

    /** Proxy (default) or only decide; see {@link Mode}. */
    public Builder mode(Mode mode) {
      this.mode = requireNonNull(mode, "mode");
      return this;
    }

    /** Shorthand for {@code mode(Mode.DECIDE_ONLY)}. */
    public Builder decideOnly() {
      return mode(Mode.DECIDE_ONLY);
    }

    /**
     * How long to wait for a TCP connection to one backend before trying the next.
     *
     * @throws dev.affinity.AffinityConfigurationException unless between 1 ms and 1 hour
     */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = checkTimeout("connectTimeout", timeout);
      return this;
    }

    /**
     * How long to wait, once connected, for a backend's complete response head (and, for a non-101
     * answer, its body). Past it the backend is reported as failed and the client gets 504; no
     * other backend is tried, since this one may have acted on the request.
     *
     * @throws dev.affinity.AffinityConfigurationException unless between 1 ms and 1 hour
     */
    public Builder handshakeTimeout(Duration timeout) {
      this.handshakeTimeout = checkTimeout("handshakeTimeout", timeout);
      return this;
    }

    /**
     * How long a tunnel leg may see no bytes before both legs are closed; {@link Duration#ZERO}
     * disables it. Set it above your WebSocket ping interval. The same setting, bounds and default
     * as the Netty adapter's.
     *
     * @throws dev.affinity.AffinityConfigurationException unless zero or between 1 ms and 7 days
     */
    public Builder idleTimeout(Duration timeout) {
      this.idleTimeout = AdapterSettings.idleTimeout("idleTimeout", timeout);
      return this;
    }

    /**
     * The pool the tunnels and the connections to backends take their buffers from. Default: a
     * Jetty {@code ArrayByteBufferPool} of the handler's own (or the one {@link
     * AffinityServer.Builder#byteBufferPool} names), never the server's: Jetty 12.1's HTTP/1 parser
     * can return a request buffer to the server's pool twice after a malformed request, so two
     * connections may briefly share one buffer, and relayed bytes must not be exposed to that. An
     * {@code ArrayByteBufferPool.Tracking} pool finds leaks in tests.
     */
    public Builder byteBufferPool(ByteBufferPool pool) {
      this.buffers = requireNonNull(pool, "pool");
      return this;
    }

    /**
     * The size of the buffer each tunnel direction reads into; one buffer per direction is in
     * flight at a time, and an idle tunnel holds none.
     *
     * @throws dev.affinity.AffinityConfigurationException unless 1 KiB to 1 MiB
     */
    public Builder bufferSize(int bytes) {
      check(bytes >= 1024 && bytes <= 1 << 20, "bufferSize", bytes, "1024..1048576");
      this.bufferSize = bytes;
      return this;
    }

    /**
     * The largest request head (request line and header fields) accepted; larger ones get 431. The
     * connector's own {@code HttpConfiguration.requestHeaderSize} applies first.
     *
     * @throws dev.affinity.AffinityConfigurationException unless 256 bytes to 1 MiB
     */
    public Builder maxRequestHeadBytes(int bytes) {
      check(bytes >= 256 && bytes <= 1 << 20, "maxRequestHeadBytes", bytes, "256..1048576");
      this.maxRequestHeadBytes = bytes;
      return this;
    }

    /**
     * The most header fields a handshake may carry; more get 431. The same setting, bounds and
     * default as the Netty adapter's.
     *
     * @throws dev.affinity.AffinityConfigurationException unless 8 to 10000
     */
    public Builder maxHeaderCount(int count) {
      this.maxHeaderCount = AdapterSettings.maxHeaderCount(count);
      return this;
    }

    /**
     * The largest response head accepted from a backend; a larger one fails the attempt.
     *
     * @throws dev.affinity.AffinityConfigurationException unless 256 bytes to 1 MiB
     */
    public Builder maxResponseHeadBytes(int bytes) {
      check(bytes >= 256 && bytes <= 1 << 20, "maxResponseHeadBytes", bytes, "256..1048576");
      this.maxResponseHeadBytes = bytes;
      return this;
    }

    /**
     * How much of a backend's non-101 response body is relayed to the client; the rest is dropped.
     * The same setting, bounds and default as the Netty adapter's.
     *
     * @throws dev.affinity.AffinityConfigurationException unless 0 to 16 MiB
     */
    public Builder maxErrorBodyBytes(int bytes) {
      this.maxErrorBodyBytes = AdapterSettings.maxErrorBodyBytes(bytes);
      return this;
    }

    /**
     * Whether to write {@code X-Forwarded-For}, {@code -Proto}, {@code -Host}, {@code -Port} and
     * {@code Forwarded} to the forwarded request (default true); false passes the client's as they
     * are.
     */
    public Builder forwardedHeaders(boolean enabled) {
      this.forwardedHeaders = enabled;
      return this;
    }

    /**
     * The TLS context for backends reached over TLS: those whose metadata {@code scheme} is {@code
     * wss} (the proxy's {@code uri=wss://…}). Their certificate is verified by this context's trust
     * managers and their host name checked (endpoint identification {@code HTTPS}); the host name
     * is sent as SNI. Default: the JVM's default context, that is its trust store.
     */
    public Builder backendSslContext(SSLContext context) {
      this.backendSslContext = requireNonNull(context, "context");
      return this;
    }

    /**
     * Hears how each routed handshake was answered (status, time) and how each tunnel ended
     * (duration, bytes each way, close code), for an access log; default none.
     */
    public Builder tunnelListener(TunnelListener listener) {
      this.tunnelListener = requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Learns from each backend's 101 ("sticky learn"): when a backend opens a tunnel, the value its
     * 101 sets in the {@linkplain LearnedAffinity#carrier() carrier} (a cookie or header) is stored
     * as value → that backend, held while the tunnel is open and left to its time to live after.
     * Put the same {@code learned} in the router's strategy chain, first, so that a later handshake
     * carrying the value goes back to that backend. A failing store never fails the handshake: the
     * value is just not learned (logged and counted by {@link LearnedAffinity#learnFailures()}).
     * Proxy mode only: in decide mode the application answers the handshake itself. Default: none.
     * The same option as the Netty adapter's {@code AffinityProxyConfig.Builder.learnedAffinity}.
     *
     * <pre>{@code
     * LearnedAffinity learned = AffinityStrategy.learned(
     *     LearnedStore.inMemory(key, Duration.ofHours(1)), LearnedCarrier.cookie("JSESSIONID"));
     * Router router = Router.builder(group).strategy(learned).strategy(hash).build();
     * AffinityHandler handler = AffinityHandler.proxy(router).learnedAffinity(learned).build();
     * }</pre>
     */
    public Builder learnedAffinity(LearnedAffinity learned) {
      this.learnedAffinity = requireNonNull(learned, "learned");
      return this;
    }

    /**
     * Returns a new handler; each call builds a fresh one.
     *
     * @throws dev.affinity.AffinityConfigurationException if plain HTTP proxying ({@link
     *     #proxyHttp}, {@link #proxyHttpPaths}) is asked for in decide-only mode, where the
     *     application serves requests itself
     */
    public AffinityHandler build() {
      check(
          mode == Mode.PROXY || httpScope.isNone(),
          "proxyHttp",
          true,
          "false in decide-only mode: the application answers requests itself");
      return new AffinityHandler(this);
    }

    private static Duration checkTimeout(String field, Duration timeout) {
      return AdapterSettings.timeout(field, timeout);
    }

    @Override
    public String toString() {
      return "AffinityHandler.Builder{mode=" + mode + "}";
    }
  }
}

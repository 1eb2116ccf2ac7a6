package dev.affinity.jetty;

import dev.affinity.RoutingDecision;
import dev.affinity.SetCookie;
import dev.affinity.backend.Backend;
import dev.affinity.backend.CloseReason;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.internal.http.ErrorAnswer;
import dev.affinity.internal.http.ForwardedHeaders;
import dev.affinity.internal.http.HandshakeRules;
import dev.affinity.internal.http.HopByHop;
import dev.affinity.internal.tls.PemTls;
import java.lang.System.Logger.Level;
import java.net.ConnectException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.HttpResponseException;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.proxy.ProxyHandler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.Scheduler;
import org.jspecify.annotations.Nullable;

/**
 * The plain-HTTP path of an {@link AffinityHandler} ({@code proxyHttp}): Jetty's own {@link
 * ProxyHandler} over an {@link HttpClient} of the handler's, with the routing of the WebSocket path
 * on top.
 *
 * <p>What Jetty does here: HTTP/1.1 to the backends over pooled keep-alive connections (at most
 * {@code httpMaxConnectionsPerBackend} per backend, closed after {@code httpPoolIdleTimeout} idle),
 * request and response bodies streamed with demand (the next chunk is read only once the previous
 * one is written, so a slow reader slows the backend instead of filling memory), {@code 100
 * Continue}, and keep-alive towards the client. What this class adds: the router's decision for the
 * request, the affinity cookie on the response, the lease for the exchange, failover before the
 * request was sent, hop-by-hop and forwarded headers by the rules both adapters share, and the
 * limits (body size, response-head time).
 */
final class PlainHttpProxy extends ProxyHandler {
  private static final System.Logger LOG = System.getLogger(AffinityHandler.class.getName());
  private static final String EXCHANGE = PlainHttpProxy.class.getName() + ".exchange";

  private final AffinityHandler handler;
  private final int maxConnectionsPerBackend;
  private final Duration responseTimeout;
  private final Duration poolIdleTimeout;
  private final long maxRequestBodyBytes;
  private final @Nullable SSLContext backendSslContext;
  private final Set<Exchange> exchanges = ConcurrentHashMap.newKeySet();

  PlainHttpProxy(
      AffinityHandler handler,
      int maxConnectionsPerBackend,
      Duration responseTimeout,
      Duration poolIdleTimeout,
      long maxRequestBodyBytes,
      @Nullable SSLContext backendSslContext) {
    this.handler = handler;
    this.maxConnectionsPerBackend = maxConnectionsPerBackend;
    this.responseTimeout = responseTimeout;
    this.poolIdleTimeout = poolIdleTimeout;
    this.maxRequestBodyBytes = maxRequestBodyBytes;
    this.backendSslContext = backendSslContext;
  }

  // ------------------------------------------------------------------ the client

  /**
   * An HTTP/1.1-only client on the server's threads and timers whose buffers come from the
   * handler's own pool, never the server's (see {@link AffinityHandler#buffers()}).
   */
  @Override
  protected HttpClient newHttpClient() {
    ClientConnector c = new ClientConnector();
    c.setExecutor(handler.getServer().getThreadPool());
    c.setScheduler(handler.getServer().getScheduler());
    c.setByteBufferPool(handler.buffers());
    c.setConnectTimeout(handler.connectTimeout());
    c.setTCPNoDelay(true);
    SslContextFactory.Client tls = new SslContextFactory.Client();
    SSLContext context = backendSslContext;
    tls.setSslContext(context != null ? context : PemTls.defaultClientContext());
    tls.setEndpointIdentificationAlgorithm("HTTPS");
    tls.setIncludeProtocols(PemTls.PROTOCOLS.toArray(new String[0]));
    c.setSslContextFactory(tls);
    return new HttpClient(new HttpClientTransportOverHTTP(c));
  }

  @Override
  protected void configureHttpClient(HttpClient client) {
    super.configureHttpClient(client); // no redirects, no cookie store
    client.setConnectTimeout(handler.connectTimeout().toMillis());
    client.setMaxConnectionsPerDestination(maxConnectionsPerBackend);
    // The idle timeout of a pooled connection: an idle connection is closed (evicted) after it.
    // While an exchange runs, the request's own idle timeout (the handler's idleTimeout) applies.
    client.setIdleTimeout(poolIdleTimeout.toMillis());
    client.setDestinationIdleTimeout(poolIdleTimeout.toMillis());
    client.setMaxResponseHeadersSize(handler.maxResponseHeadBytes());
    client.setUserAgentField(null); // the client's User-Agent only, never "Jetty/12"
  }

  /** The pool a request for {@code backend} would use, for tests: open connections to it. */
  int connectionsTo(Backend backend) {
    HttpClient client = getHttpClient();
    if (client == null) {
      return 0;
    }
    for (org.eclipse.jetty.client.Destination d : client.getDestinations()) {
      if (d.getOrigin().getAddress().getHost().equals(host(backend))
          && d.getOrigin().getAddress().getPort() == backend.port()
          && d.getConnectionPool() instanceof org.eclipse.jetty.client.AbstractConnectionPool) {
        return ((org.eclipse.jetty.client.AbstractConnectionPool) d.getConnectionPool())
            .getConnectionCount();
      }
    }
    return 0;
  }

  // ------------------------------------------------------------------ entry

  /**
   * Routes and proxies one plain request in scope; always handles it (answers or proxies it).
   *
   * @return true, as {@link org.eclipse.jetty.server.Handler#handle} expects
   */
  boolean forward(Request request, Response response, Callback callback) {
    HandshakeRules.Problem problem =
        UpgradeRequests.checkPlain(
            request, handler.maxRequestHeadBytes(), handler.maxHeaderCount());
    if (problem != null) {
      Errors.respond(request, response, callback, problem.status(), problem.message());
      return true;
    }
    if (handler.isShuttingDown()) {
      Errors.respond(
          request,
          response,
          callback,
          HttpStatus.SERVICE_UNAVAILABLE_503,
          ErrorAnswer.PROXY_STOPPING);
      return true;
    }
    long length = request.getLength();
    if (length > maxRequestBodyBytes) {
      Errors.respond(
          request,
          response,
          callback,
          HttpStatus.PAYLOAD_TOO_LARGE_413,
          ErrorAnswer.requestBodyTooLarge(maxRequestBodyBytes));
      return true;
    }
    JettyRoutingRequest view = new JettyRoutingRequest(request);
    RoutingDecision decision = handler.router().select(view);
    request.setAttribute(AffinityHandler.DECISION_ATTRIBUTE, decision);
    if (!decision.hasBackend()) {
      view.release();
      Errors.respond(
          request, response, callback, decision.httpStatus(), ErrorAnswer.forDecision(decision));
      return true;
    }
    // While the exchange runs, the client's connection waits on the backend (a long poll) or
    // streams (SSE) with quiet spells: the handler's idleTimeout applies to it, as to a tunnel,
    // instead of the connector's; the connector's is back for the keep-alive wait after it.
    EndPoint clientEndPoint = request.getConnectionMetaData().getConnection().getEndPoint();
    long connectorIdle = clientEndPoint.getIdleTimeout();
    clientEndPoint.setIdleTimeout(handler.idleTimeout().toMillis());
    Exchange x =
        new Exchange(
            response,
            Callback.from(() -> clientEndPoint.setIdleTimeout(connectorIdle), callback),
            decision,
            view);
    request.setAttribute(EXCHANGE, x);
    exchanges.add(x);
    // The client may go away (or idle out) while the backend thinks: stop the backend's request.
    request.addFailureListener(x::clientFailed);
    handle(request, response, x.completion);
    return true;
  }

  /**
   * Graceful stop: the responses already streaming (an SSE stream, a long download) are ended so
   * that their clients reconnect elsewhere; the exchanges still waiting for a response head run to
   * their end. Returns whether none is left.
   */
  boolean shutdown() {
    for (Exchange x : exchanges) {
      if (x.response.isCommitted()) {
        x.abort(new ClosedException("proxy is stopping"));
      }
    }
    return exchanges.isEmpty();
  }

  /** Whether no proxied plain request is in flight. */
  boolean isIdle() {
    return exchanges.isEmpty();
  }

  private static Exchange exchange(Request request) {
    Object x = request.getAttribute(EXCHANGE);
    if (!(x instanceof Exchange)) {
      throw new IllegalStateException("not a routed plain request: " + request);
    }
    return (Exchange) x;
  }

  // ------------------------------------------------------------------ ProxyHandler hooks

  @Override
  protected HttpURI rewriteHttpURI(Request clientToProxyRequest) {
    Exchange x = exchange(clientToProxyRequest);
    Backend b = x.backend;
    String pathQuery = clientToProxyRequest.getHttpURI().getPathQuery();
    return HttpURI.build()
        .scheme(PemTls.isTls(b) ? "https" : "http")
        .host(host(b))
        .port(b.port())
        .pathQuery(pathQuery == null || pathQuery.isEmpty() ? "/" : pathQuery);
  }

  private static String host(Backend b) {
    String h = b.host();
    return h.indexOf(':') >= 0 && !h.startsWith("[") ? "[" + h + "]" : h;
  }

  @Override
  protected org.eclipse.jetty.client.Request newProxyToServerRequest(
      Request clientToProxyRequest, HttpURI newHttpURI) {
    Exchange x = exchange(clientToProxyRequest);
    org.eclipse.jetty.client.Request r =
        super.newProxyToServerRequest(clientToProxyRequest, newHttpURI);
    Attempt a = x.newAttempt(r);
    Duration idle = handler.idleTimeout();
    r.idleTimeout(idle.toMillis(), TimeUnit.MILLISECONDS);
    r.onRequestBegin(request -> a.begun());
    r.onRequestCommit(request -> a.committed = true);
    r.onRequestSuccess(request -> a.sent());
    return r;
  }

  /**
   * Copies the client's fields except the hop-by-hop ones (RFC 9110 section 7.6.1, by the rule both
   * adapters share) and the forwarded headers, which {@link #addProxyHeaders} writes. {@code Host}
   * is kept as the client sent it, as on the WebSocket path.
   */
  @Override
  protected void copyRequestHeaders(
      Request clientToProxyRequest, org.eclipse.jetty.client.Request proxyToServerRequest) {
    HttpFields fields = clientToProxyRequest.getHeaders();
    Set<String> options = HopByHop.connectionOptions(fields.getValuesList(HttpHeader.CONNECTION));
    boolean forwarding = handler.forwardedHeaders();
    proxyToServerRequest.headers(
        headers -> {
          for (HttpField f : fields) {
            String name = f.getName();
            if (HopByHop.isHopByHop(name, options) || (forwarding && ForwardedHeaders.owns(name))) {
              continue;
            }
            headers.add(f);
          }
        });
  }

  /**
   * The forwarded headers of the WebSocket path ({@link ForwardedHeaders#write}), and no {@code
   * Via}: the backends see the same fields whichever path a client takes.
   */
  @Override
  protected void addProxyHeaders(
      Request clientToProxyRequest, org.eclipse.jetty.client.Request proxyToServerRequest) {
    if (!handler.forwardedHeaders()) {
      return;
    }
    Exchange x = exchange(clientToProxyRequest);
    HttpFields fields = clientToProxyRequest.getHeaders();
    List<Map.Entry<String, String>> written =
        handler
            .forwarding()
            .write(
                fields::getValuesList,
                x.view.remoteAddress(),
                x.view.proxyProtocolSourceAddress(),
                clientToProxyRequest.isSecure(),
                Request.getLocalPort(clientToProxyRequest));
    proxyToServerRequest.headers(
        headers -> {
          for (Map.Entry<String, String> e : written) {
            headers.add(e.getKey(), e.getValue());
          }
        });
  }

  @Override
  protected org.eclipse.jetty.client.Request.Content newProxyToServerRequestContent(
      Request clientToProxyRequest,
      Response proxyToClientResponse,
      org.eclipse.jetty.client.Request proxyToServerRequest) {
    return new LimitedContent(clientToProxyRequest, maxRequestBodyBytes);
  }

  @Override
  protected void sendProxyToServerRequest(
      Request clientToProxyRequest,
      org.eclipse.jetty.client.Request proxyToServerRequest,
      Response proxyToClientResponse,
      Callback proxyToClientCallback) {
    Exchange x = exchange(clientToProxyRequest);
    Attempt a = x.attempt;
    if (a != null) {
      a.armTimer();
    }
    super.sendProxyToServerRequest(
        clientToProxyRequest, proxyToServerRequest, proxyToClientResponse, proxyToClientCallback);
  }

  @Override
  protected org.eclipse.jetty.client.Response.CompleteListener newServerToProxyResponseListener(
      Request clientToProxyRequest,
      org.eclipse.jetty.client.Request proxyToServerRequest,
      Response proxyToClientResponse,
      Callback proxyToClientCallback) {
    Exchange x = exchange(clientToProxyRequest);
    return new ProxyResponseListener(
        clientToProxyRequest, proxyToServerRequest, proxyToClientResponse, proxyToClientCallback) {
      @Override
      public void onBegin(org.eclipse.jetty.client.Response serverToProxyResponse) {
        Attempt a = x.attempt;
        if (a != null) {
          a.responded();
        }
        super.onBegin(serverToProxyResponse);
      }

      /**
       * The backend's end-to-end fields (hop-by-hop ones removed by the shared rule, including
       * those its {@code Connection} names), then the affinity cookie next to the backend's own.
       */
      @Override
      public void onHeaders(org.eclipse.jetty.client.Response serverToProxyResponse) {
        HttpFields from = serverToProxyResponse.getHeaders();
        Set<String> options = HopByHop.connectionOptions(from.getValuesList(HttpHeader.CONNECTION));
        HttpFields.Mutable to = proxyToClientResponse.getHeaders();
        for (HttpField f : from) {
          if (!HopByHop.isHopByHop(f.getName(), options)) {
            to.add(f);
          }
        }
        // Names the backend that answered, which after a failover is not decision.backend().
        SetCookie cookie = x.decision.cookieFor(x.backend);
        if (cookie != null) {
          to.add(HttpHeader.SET_COOKIE, cookie.toHeaderValue());
        }
      }
    };
  }

  /**
   * A failure towards the backend, by the rules both adapters share. Connect refused or timed out,
   * the backend's connection queue full, or the backend closing before any response head: reported
   * to the router as the WebSocket path does, and the next candidate gets the request if it can be
   * repeated (nothing of a body was sent yet); when none is left, 502 {@code no backend reachable}.
   * A response that is not HTTP: reported, 502 {@code bad response from backend}. No response head
   * within {@code httpResponseTimeout}: 504. A body above the limit: 413. Any failure after the
   * response head went to the client: the client's connection is cut.
   */
  @Override
  protected void onServerToProxyResponseFailure(
      Request clientToProxyRequest,
      org.eclipse.jetty.client.Request proxyToServerRequest,
      org.eclipse.jetty.client.@Nullable Response serverToProxyResponse,
      Response proxyToClientResponse,
      Callback proxyToClientCallback,
      Throwable failure) {
    Exchange x = exchange(clientToProxyRequest);
    Attempt a = x.attempt;
    if (a != null) {
      a.cancelTimer();
    }
    Throwable clientFailure = x.clientFailure;
    if (clientFailure != null) {
      proxyToClientCallback.failed(clientFailure);
      return;
    }
    if (proxyToClientResponse.isCommitted()) {
      // A response is on its way: nothing can be said any more, so the client sees it cut.
      proxyToClientCallback.failed(failure);
      return;
    }
    proxyToClientResponse.reset();
    Backend backend = x.backend;
    boolean begun = a != null && a.begun;
    boolean responded = a != null && a.responded;
    int status = HttpStatus.BAD_GATEWAY_502;
    String message;
    if (failure instanceof BodyTooLargeException) {
      status = HttpStatus.PAYLOAD_TOO_LARGE_413;
      message = ErrorAnswer.requestBodyTooLarge(maxRequestBodyBytes);
    } else if (failure instanceof ResponseTimeoutException) {
      if (begun) {
        handler.router().reportConnectFailure(backend, failure); // as a silent WebSocket backend
      }
      status = HttpStatus.GATEWAY_TIMEOUT_504;
      message = ErrorAnswer.BACKEND_TIMEOUT;
    } else if (failure instanceof ClosedException) {
      status = HttpStatus.SERVICE_UNAVAILABLE_503;
      message = ErrorAnswer.PROXY_STOPPING;
    } else if (responded || failure instanceof HttpResponseException) {
      handler.router().reportConnectFailure(backend, failure);
      message = ErrorAnswer.BAD_RESPONSE;
    } else {
      if (!(failure instanceof ClosedByRouterException)) {
        handler.router().reportConnectFailure(backend, failure);
      }
      if (LOG.isLoggable(Level.DEBUG)) {
        LOG.log(Level.DEBUG, "backend {0} failed for {1}: {2}", backend.id(), x.view, failure);
      }
      // Repeatable: no connection took it (nothing was read from the client), or it has no body.
      boolean repeatable = !begun || !hasBody(clientToProxyRequest);
      Backend next = repeatable && !handler.isShuttingDown() ? x.nextCandidate() : null;
      if (next != null) {
        x.backend = next;
        handle(clientToProxyRequest, proxyToClientResponse, proxyToClientCallback);
        return;
      }
      message = ErrorAnswer.NO_BACKEND_REACHABLE;
    }
    Errors.respond(
        clientToProxyRequest, proxyToClientResponse, proxyToClientCallback, status, message);
  }

  // ------------------------------------------------------------------ state

  /** One routed plain request: its decision, the backend tried now, and the attempt on it. */
  private final class Exchange {
    final Response response;
    final RoutingDecision decision;
    final JettyRoutingRequest view;
    final Callback completion;
    volatile Backend backend;
    volatile @Nullable Attempt attempt;
    volatile @Nullable Throwable clientFailure;
    private int nextCandidate; // only touched by the one attempt in flight
    private final AtomicBoolean finished = new AtomicBoolean();

    Exchange(
        Response response, Callback callback, RoutingDecision decision, JettyRoutingRequest view) {
      this.response = response;
      this.decision = decision;
      this.view = view;
      this.backend = decision.backend();
      this.completion =
          new Callback() {
            @Override
            public void succeeded() {
              finish();
              callback.succeeded();
            }

            @Override
            public void failed(Throwable x) {
              finish();
              callback.failed(x);
            }

            @Override
            public InvocationType getInvocationType() {
              return InvocationType.NON_BLOCKING;
            }
          };
    }

    Attempt newAttempt(org.eclipse.jetty.client.Request r) {
      Attempt previous = attempt;
      if (previous != null) {
        previous.end();
      }
      Attempt a = new Attempt(this, backend, r);
      attempt = a;
      return a;
    }

    @Nullable Backend nextCandidate() {
      List<Backend> candidates = decision.failoverCandidates();
      return nextCandidate < candidates.size() ? candidates.get(nextCandidate++) : null;
    }

    void clientFailed(Throwable cause) {
      clientFailure = cause;
      abort(cause);
    }

    void abort(Throwable cause) {
      Attempt a = attempt;
      if (a != null) {
        PlainHttpProxy.abort(a.request, cause);
      }
    }

    private void finish() {
      if (!finished.compareAndSet(false, true)) {
        return;
      }
      Attempt a = attempt;
      if (a != null) {
        a.end();
      }
      view.release();
      exchanges.remove(this);
      handler.httpExchangeEnded();
    }
  }

  /** One request to one backend: its lease (while a connection serves it) and its timer. */
  private final class Attempt {
    final Exchange exchange;
    final Backend backend;
    final org.eclipse.jetty.client.Request request;
    volatile boolean begun;
    volatile boolean committed;
    volatile boolean sent;
    volatile boolean responded;
    private @Nullable ConnectionLease lease;
    private Scheduler.@Nullable Task timer;
    private boolean ended;

    Attempt(Exchange exchange, Backend backend, org.eclipse.jetty.client.Request request) {
      this.exchange = exchange;
      this.backend = backend;
      this.request = request;
    }

    /** A pooled connection took the request: it now counts as a live connection of its backend. */
    void begun() {
      begun = true;
      ConnectionLease l = exchange.decision.openLease(backend, this::closeFor);
      boolean keep;
      synchronized (this) {
        keep = !ended;
        if (keep) {
          lease = l;
        }
      }
      if (!keep) {
        l.close();
      }
    }

    /** The lease's closer (drain deadline, re-homing, lifetime): ends the exchange. */
    private void closeFor(CloseReason reason) {
      abort(request, new ClosedByRouterException(reason));
    }

    void sent() {
      sent = true;
      if (!responded) {
        armTimer(); // the backend has the whole timeout once it has the whole request
      }
    }

    void responded() {
      responded = true;
      cancelTimer();
    }

    void armTimer() {
      Scheduler.Task t =
          handler
              .scheduler()
              .schedule(this::timedOut, responseTimeout.toMillis(), TimeUnit.MILLISECONDS);
      Scheduler.Task old;
      synchronized (this) {
        old = timer;
        timer = ended || responded ? null : t;
      }
      if (old != null) {
        old.cancel();
      }
      if (ended || responded) {
        t.cancel();
      }
    }

    private void timedOut() {
      if (responded || ended) {
        return;
      }
      if (committed && !sent) {
        armTimer(); // still uploading: bytes are moving, the idle timeout watches that
        return;
      }
      abort(request, new ResponseTimeoutException(responseTimeout));
    }

    void cancelTimer() {
      Scheduler.Task t;
      synchronized (this) {
        t = timer;
        timer = null;
      }
      if (t != null) {
        t.cancel();
      }
    }

    /** The attempt is over (failed over, or the exchange ended): timer and lease go. */
    void end() {
      ConnectionLease l;
      synchronized (this) {
        ended = true;
        l = lease;
        lease = null;
      }
      cancelTimer();
      if (l != null) {
        l.close();
      }
    }
  }

  /**
   * Aborts a request to a backend. The outcome arrives through the response listener's failure
   * (onServerToProxyResponseFailure); the future only says whether this call was the first abort.
   */
  private static void abort(org.eclipse.jetty.client.Request request, Throwable cause) {
    java.util.concurrent.CompletableFuture<Boolean> unused = request.abort(cause);
  }

  private static boolean hasBody(Request request) {
    HttpFields h = request.getHeaders();
    return h.contains(HttpHeader.TRANSFER_ENCODING) || request.getLength() > 0;
  }

  /** The client's body, ended with a failure once it passes {@code httpMaxRequestBodyBytes}. */
  private static final class LimitedContent extends ProxyRequestContent {
    private final long limit;
    private long seen;

    LimitedContent(Request request, long limit) {
      super(request);
      this.limit = limit;
    }

    /**
     * Keeps a failure towards the backend from failing the client's request: the proxy answers the
     * client itself (413, 502, or the next candidate, which reads the body this one did not).
     */
    @Override
    public void fail(Throwable failure) {
      if (LOG.isLoggable(Level.DEBUG)) {
        LOG.log(Level.DEBUG, "request body towards the backend failed: {0}", failure.toString());
      }
    }

    @Override
    public void fail(Throwable failure, boolean last) {
      fail(failure);
    }

    @Override
    public Content.@Nullable Chunk read() {
      Content.Chunk c = super.read();
      if (c == null || Content.Chunk.isFailure(c)) {
        return c;
      }
      seen += c.remaining();
      if (seen > limit) {
        c.release();
        // The rest stays unread: the 413 (or the abort) closes the client's connection.
        return Content.Chunk.from(new BodyTooLargeException(limit), true);
      }
      return c;
    }
  }

  /** Ours: the client's body passed the limit (413 before a response, else abort). */
  static final class BodyTooLargeException extends java.io.IOException {
    private static final long serialVersionUID = 1L;

    BodyTooLargeException(long limit) {
      super(ErrorAnswer.requestBodyTooLarge(limit));
    }
  }

  /** Ours: no response head within {@code httpResponseTimeout} (504). */
  static final class ResponseTimeoutException extends java.util.concurrent.TimeoutException {
    private static final long serialVersionUID = 1L;

    ResponseTimeoutException(Duration timeout) {
      super("no response head within " + timeout);
    }
  }

  /** Ours: the exchange was ended by the proxy itself (graceful stop). */
  static class ClosedException extends java.io.IOException {
    private static final long serialVersionUID = 1L;

    ClosedException(String message) {
      super(message);
    }
  }

  /** Ours: the router closed the lease (drain deadline, re-homing, lifetime). */
  static final class ClosedByRouterException extends ConnectException {
    private static final long serialVersionUID = 1L;

    ClosedByRouterException(CloseReason reason) {
      super("closed by the router: " + reason);
    }
  }
}

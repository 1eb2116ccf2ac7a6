package dev.affinity.jetty;

import dev.affinity.RoutingDecision;
import dev.affinity.SetCookie;
import dev.affinity.backend.Backend;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.internal.http.ErrorAnswer;
import dev.affinity.internal.http.TunnelAccounting;
import dev.affinity.strategy.LearnedStore;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.jspecify.annotations.Nullable;

/**
 * One routed handshake in proxy mode: connect (with failover), relay the backend's answer, and on a
 * 101 hand the client's endpoint to a {@link LiveTunnel}. Jetty's callback is completed exactly
 * once, guarded by {@link #completed}.
 */
final class ProxyExchange {
  private static final System.Logger LOG = System.getLogger(AffinityHandler.class.getName());

  private final AffinityHandler handler;
  private final BackendConnector connector;
  private final Request request;
  private final Response response;
  private final Callback callback;
  private final RoutingDecision decision;
  private final JettyRoutingRequest view;
  private final ByteBuffer head;
  private final TunnelAccounting accounting;
  private final AtomicBoolean completed = new AtomicBoolean();
  private volatile @Nullable BackendConnection current;
  private int nextCandidate; // only touched by the one attempt in flight

  ProxyExchange(
      AffinityHandler handler,
      BackendConnector connector,
      Request request,
      Response response,
      Callback callback,
      RoutingDecision decision,
      JettyRoutingRequest view,
      TunnelAccounting accounting) {
    this.accounting = accounting;
    this.handler = handler;
    this.connector = connector;
    this.request = request;
    this.response = response;
    this.callback = callback;
    this.decision = decision;
    this.view = view;
    this.head =
        UpgradeRequests.forwardedHead(
            request,
            view.remoteAddress(),
            view.proxyProtocolSourceAddress(),
            handler.forwardedHeaders() ? handler.forwarding() : null);
  }

  void start() {
    // The client may go away (or idle out) while we wait for the backend.
    request.addFailureListener(this::abort);
    attempt(decision.backend());
  }

  private void attempt(Backend backend) {
    connector.connect(backend, this);
  }

  RoutingDecision decision() {
    return decision;
  }

  Duration handshakeTimeout() {
    return handler.handshakeTimeout();
  }

  /** A fresh view of the forwarded request head for one attempt. */
  ByteBuffer head() {
    return head.duplicate();
  }

  /** Registers the connection of the current attempt; false if the exchange is already over. */
  boolean attach(BackendConnection connection) {
    current = connection;
    return !completed.get();
  }

  /**
   * Connecting or handshaking with {@code backend} failed: report it, then try the next candidate,
   * or answer 502 (504 for a handshake timeout).
   */
  void attemptFailed(Backend backend, Throwable cause) {
    current = null;
    if (completed.get()) {
      return; // we closed it ourselves because the client left: not the backend's fault
    }
    if (!(cause instanceof BackendConnection.ClosedByRouterException)) {
      handler.router().reportConnectFailure(backend, cause);
    }
    if (LOG.isLoggable(Level.DEBUG)) {
      LOG.log(Level.DEBUG, "backend {0} failed for {1}: {2}", backend.id(), view, cause.toString());
    }
    // A backend that took the request and then stayed silent may have acted on it: answer 504
    // rather than make the client wait a handshake timeout per candidate. One that answered
    // something not HTTP gets 502 (as on Netty). Anything that failed before the backend could
    // answer (connect, reset, close) moves on to the next one.
    boolean timedOut = cause instanceof BackendConnection.HandshakeTimeoutException;
    boolean badResponse = cause instanceof BackendConnection.BadResponseException;
    List<Backend> candidates = decision.failoverCandidates();
    if (!timedOut && !badResponse && nextCandidate < candidates.size()) {
      attempt(candidates.get(nextCandidate++));
      return;
    }
    if (completed.compareAndSet(false, true)) {
      int status = timedOut ? HttpStatus.GATEWAY_TIMEOUT_504 : HttpStatus.BAD_GATEWAY_502;
      Errors.respond(
          request,
          response,
          callback,
          status,
          timedOut
              ? ErrorAnswer.BACKEND_TIMEOUT
              : badResponse ? ErrorAnswer.BAD_RESPONSE : ErrorAnswer.NO_BACKEND_REACHABLE);
      handler.answered(decision, accounting, status);
    }
  }

  /** The backend answered 101: relay it with our cookie, then let the tunnel take the endpoint. */
  void upgraded(BackendConnection backendLeg, @Nullable ConnectionLease lease, HttpFields fields) {
    current = null;
    if (lease == null || !completed.compareAndSet(false, true)) {
      backendLeg.getEndPoint().close();
      if (lease != null) {
        lease.close();
      }
      return;
    }
    ClientConnection clientLeg;
    try {
      response.setStatus(HttpStatus.SWITCHING_PROTOCOLS_101);
      copyHeaders(fields, response.getHeaders(), false);
      // Names the backend we are connected to, which after a failover is not decision.backend().
      SetCookie cookie = decision.cookieFor(backendLeg.backend());
      if (cookie != null) {
        // The same header value as the Netty adapter's; no Expires header added.
        response.getHeaders().add(HttpHeader.SET_COOKIE, cookie.toHeaderValue());
      }
      EndPoint clientEndPoint = request.getConnectionMetaData().getConnection().getEndPoint();
      clientLeg =
          new ClientConnection(
              clientEndPoint,
              request.getComponents().getExecutor(),
              handler.buffers(),
              handler.bufferSize());
    } catch (RuntimeException e) {
      // Nothing is committed yet: the client gets an error, not a hang.
      backendLeg.getEndPoint().close(e);
      lease.close();
      LOG.log(Level.WARNING, "relaying the 101 of " + backendLeg.backend().id() + " failed", e);
      response.reset();
      Errors.respond(
          request, response, callback, HttpStatus.BAD_GATEWAY_502, ErrorAnswer.BAD_RESPONSE);
      handler.answered(decision, accounting, HttpStatus.BAD_GATEWAY_502);
      return;
    }
    InetSocketAddress client = view.remoteAddress();
    // Reported while the request view can still read headers (the access log's client address).
    handler.answered(decision, accounting, HttpStatus.SWITCHING_PROTOCOLS_101);
    // Learned from the backend's own fields (not our cookie), also while the view can be read.
    LearnedStore.Hold learned = handler.learn(decision, backendLeg.backend(), fields);
    // The decision carries what the tunnel needs (key hash, cookie, candidates): copy nothing.
    view.release();
    LiveTunnel tunnel =
        new LiveTunnel(
            handler, decision, lease, learned, client, clientLeg, backendLeg, accounting);
    accounting.opened();
    handler.opened(tunnel);
    // Jetty installs clientLeg on the endpoint once the 101 is written; clientLeg.onOpen starts it.
    request.setAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE, clientLeg);
    response.write(
        true,
        null,
        new Callback() {
          @Override
          public void succeeded() {
            callback.succeeded();
          }

          @Override
          public void failed(Throwable x) {
            tunnel.close(x);
            callback.failed(x);
          }

          @Override
          public InvocationType getInvocationType() {
            return callback.getInvocationType();
          }
        });
  }

  /** The backend answered something else: relay status, end-to-end headers and (capped) body. */
  void relay(int status, HttpFields fields, ByteBuffer body) {
    current = null;
    if (!completed.compareAndSet(false, true)) {
      return;
    }
    response.setStatus(status);
    copyHeaders(fields, response.getHeaders(), true);
    response.getHeaders().put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE);
    response.write(true, body, callback);
    handler.answered(decision, accounting, status);
  }

  private void abort(Throwable cause) {
    if (!completed.compareAndSet(false, true)) {
      return;
    }
    BackendConnection c = current;
    if (c != null) {
      c.getEndPoint().close(cause);
    }
    callback.failed(cause);
  }

  /**
   * Copies a backend's response fields. {@code Date} and {@code Server} replace Jetty's own; for a
   * relayed error, hop-by-hop and framing fields are left for Jetty to write.
   */
  private static void copyHeaders(HttpFields from, HttpFields.Mutable to, boolean dropFraming) {
    for (HttpField f : from) {
      HttpHeader h = f.getHeader();
      if (h == HttpHeader.DATE || h == HttpHeader.SERVER) {
        to.put(f);
        continue;
      }
      if (dropFraming
          && (h == HttpHeader.CONTENT_LENGTH
              || h == HttpHeader.TRANSFER_ENCODING
              || h == HttpHeader.CONNECTION
              || h == HttpHeader.KEEP_ALIVE
              || h == HttpHeader.UPGRADE
              || h == HttpHeader.TE
              || h == HttpHeader.TRAILER)) {
        continue;
      }
      to.add(f);
    }
  }
}

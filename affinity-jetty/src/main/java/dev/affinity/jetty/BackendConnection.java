package dev.affinity.jetty;

import dev.affinity.backend.Backend;
import dev.affinity.backend.CloseReason;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.internal.WebSocketFrameTracker;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;
import org.jspecify.annotations.Nullable;

/**
 * The backend leg. First it writes the forwarded request head and parses the backend's response
 * head with Jetty's {@link HttpParser}, under the handshake timeout; after a 101 it becomes a
 * {@link TunnelEnd} like the client leg. Handshake state changes are serialised by a lock because
 * the timeout fires on the scheduler's thread.
 */
final class BackendConnection extends TunnelEnd {
  private final Backend backend;
  private final ByteBufferPool pool;
  private final Scheduler scheduler;
  private final Object lock = new Object();
  private final Duration handshakeTimeout;

  // Guarded by lock until the handshake is done; then read only by the thread that finished it.
  private boolean done;
  private @Nullable ProxyExchange exchange; // dropped once the handshake is over
  private @Nullable ResponseReader reader; // dropped once the handshake is over
  private @Nullable ConnectionLease lease;
  private Scheduler.@Nullable Task timeout;
  private @Nullable RetainableByteBuffer input;
  private @Nullable ByteBuffer leftover;

  BackendConnection(
      EndPoint endPoint,
      Executor executor,
      ByteBufferPool pool,
      Scheduler scheduler,
      int bufferSize,
      int maxResponseHeadBytes,
      int maxBody,
      ProxyExchange exchange,
      Backend backend) {
    super(endPoint, executor, pool, bufferSize, new WebSocketFrameTracker());
    this.pool = pool;
    this.scheduler = scheduler;
    this.exchange = exchange;
    this.handshakeTimeout = exchange.handshakeTimeout();
    this.backend = backend;
    this.reader = new ResponseReader(maxResponseHeadBytes, maxBody);
  }

  Backend backend() {
    return backend;
  }

  @Override
  public void onOpen() {
    super.onOpen();
    SocketAddress local = getEndPoint().getLocalSocketAddress();
    if (local != null && local.equals(getEndPoint().getRemoteSocketAddress())) {
      // TCP simultaneous open: nothing listens on the backend's port and the kernel chose that
      // very port as our source, so we are connected to ourselves. Possible on loopback.
      ProxyExchange x;
      synchronized (lock) {
        x = exchange;
        exchange = null;
        done = true;
      }
      getEndPoint().close();
      if (x != null) {
        x.attemptFailed(backend, new ConnectException("self-connect: nothing listens on " + local));
      }
      return;
    }
    ByteBuffer head = null;
    synchronized (lock) {
      ProxyExchange x = exchange;
      if (x == null || !x.attach(this)) {
        done = true; // the client went away while we connected
        exchange = null;
      } else {
        lease = x.decision().openLease(backend, this::closeFor);
        timeout =
            scheduler.schedule(
                this::onHandshakeTimeout, handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        head = x.head();
      }
    }
    if (head == null) {
      getEndPoint().close();
      return;
    }
    getEndPoint().write(Callback.from(this::fillInterested, this::fail), head);
  }

  @Override
  public void onFillable() {
    @Nullable Result result;
    synchronized (lock) {
      result = readHandshake();
    }
    deliver(result);
  }

  /** Reads and parses until the response head (and for non-101, the body) is in; under lock. */
  private @Nullable Result readHandshake() {
    ResponseReader r = reader;
    if (done || r == null) {
      return null;
    }
    HttpParser parser = r.parser;
    if (input == null) {
      input = pool.acquire(4096, false);
    }
    ByteBuffer in = input.getByteBuffer();
    try {
      while (true) {
        parser.parseNext(in);
        HttpException bad = r.badMessage;
        if (bad != null) {
          return finish(Kind.FAILED, new BadResponseException((Throwable) bad));
        }
        if (r.headComplete && r.status == HttpStatus.SWITCHING_PROTOCOLS_101) {
          leftover = BufferUtil.hasContent(in) ? BufferUtil.copy(in) : null;
          return finish(Kind.UPGRADED, null);
        }
        if (r.headComplete && r.status < 200) {
          // 100 or 102 to a GET without a body is a broken backend, not an answer to relay.
          return finish(Kind.FAILED, new IOException("backend answered " + r.status));
        }
        if (r.messageComplete || r.bodyTruncated) {
          return finish(Kind.RELAY, null);
        }
        if (in.hasRemaining()) {
          continue;
        }
        BufferUtil.clear(in);
        int filled = getEndPoint().fill(in);
        if (filled == 0) {
          fillInterested();
          return null;
        }
        if (filled < 0) {
          parser.atEOF();
          parser.parseNext(in);
          if (r.headComplete) {
            return finish(Kind.RELAY, null); // a body that ends with the connection
          }
          return finish(
              Kind.FAILED, new EOFException("backend closed before a complete response head"));
        }
      }
    } catch (IOException | RuntimeException e) {
      return finish(Kind.FAILED, e);
    }
  }

  private @Nullable Result finish(Kind kind, @Nullable Throwable cause) {
    done = true;
    ResponseReader r = reader;
    ProxyExchange x = exchange;
    reader = null; // a tunnel lives long: keep no parser, head, body or exchange for it
    exchange = null;
    Scheduler.Task t = timeout;
    if (t != null) {
      t.cancel();
    }
    RetainableByteBuffer in = input;
    if (in != null) {
      input = null;
      in.release();
    }
    // Both are set until the one finish that `done` lets through; null means there is nothing left.
    return r == null || x == null ? null : new Result(kind, cause, r, x);
  }

  /** Hands the outcome to the exchange, outside the lock, with the lease it now owns. */
  private void deliver(@Nullable Result result) {
    if (result == null) {
      return;
    }
    ConnectionLease l = lease;
    ResponseReader r = result.response;
    ProxyExchange exchange = result.exchange;
    switch (result.kind) {
      case UPGRADED:
        exchange.upgraded(this, l, r.fields);
        break;
      case RELAY:
        getEndPoint().close();
        if (l != null) {
          l.close();
        }
        exchange.relay(r.status, r.fields, ByteBuffer.wrap(r.body.toByteArray()));
        break;
      case FAILED:
      default:
        getEndPoint().close(result.cause);
        if (l != null) {
          l.close();
        }
        Throwable cause = result.cause;
        exchange.attemptFailed(
            backend, cause != null ? cause : new IOException("backend handshake failed"));
        break;
    }
  }

  private void onHandshakeTimeout() {
    @Nullable Result result;
    synchronized (lock) {
      if (done) {
        return;
      }
      // A backend that answered with an error but stalls on its body: relay what we have.
      ResponseReader r = reader;
      result =
          r != null && r.headComplete
              ? finish(Kind.RELAY, null)
              : finish(Kind.FAILED, new HandshakeTimeoutException(handshakeTimeout.toMillis()));
    }
    deliver(result);
  }

  private void fail(Throwable cause) {
    @Nullable Result result;
    synchronized (lock) {
      if (done) {
        return;
      }
      result = finish(Kind.FAILED, cause);
    }
    deliver(result);
  }

  @Override
  public void onFillInterestedFailed(Throwable cause) {
    if (tunnel() == null) {
      fail(cause);
    } else {
      super.onFillInterestedFailed(cause);
    }
  }

  @Override
  public void onClose(@Nullable Throwable cause) {
    super.onClose(cause);
    if (tunnel() == null) {
      fail(cause != null ? cause : new EOFException("backend connection closed"));
    }
  }

  /**
   * The lease's closer: drain deadlines, re-homing and maximum lifetimes end the connection here,
   * on a lifecycle thread: with a close frame (1001 or 1012) between two of the backend's frames
   * once tunnelled, at the TCP level before.
   */
  private void closeFor(CloseReason reason) {
    LiveTunnel t = tunnel();
    if (t != null) {
      t.close(reason.webSocketCode(), reason.phrase());
    } else {
      // Mid-handshake: fails this attempt, so failover picks another backend.
      getEndPoint().close(new ClosedByRouterException(reason));
    }
  }

  @Nullable ByteBuffer takeLeftover() {
    ByteBuffer b = leftover;
    leftover = null;
    return b;
  }

  /**
   * The backend answered something that is not an HTTP response head: 502, no failover (as on the
   * Netty adapter, and as HAProxy and NGINX do by default).
   */
  static final class BadResponseException extends IOException {
    private static final long serialVersionUID = 1L;

    BadResponseException(Throwable cause) {
      super("not an HTTP response head: " + cause.getMessage(), cause);
    }
  }

  /** The backend accepted the connection but sent no complete response head in time. */
  static final class HandshakeTimeoutException extends TimeoutException {
    private static final long serialVersionUID = 1L;

    HandshakeTimeoutException(long millis) {
      super("no response head within " + millis + " ms");
    }
  }

  /** Marks a close the router asked for, so that it is not reported as a backend failure. */
  static final class ClosedByRouterException extends IOException {
    private static final long serialVersionUID = 1L;

    ClosedByRouterException(CloseReason reason) {
      super("closed by the router: " + reason.phrase());
    }
  }

  /** Parses the backend's response head (and a non-101 body, capped); used under the lock. */
  private static final class ResponseReader implements HttpParser.ResponseHandler {
    final HttpParser parser;
    final HttpFields.Mutable fields = HttpFields.build();
    final ByteArrayOutputStream body = new ByteArrayOutputStream();
    final int maxBody;
    int status;
    boolean headComplete;
    boolean messageComplete;
    boolean bodyTruncated;
    @Nullable HttpException badMessage;

    ResponseReader(int maxHeadBytes, int maxBody) {
      this.parser = new HttpParser(this, maxHeadBytes);
      this.maxBody = maxBody;
    }

    @Override
    public void startResponse(HttpVersion version, int status, String reason) {
      this.status = status;
    }

    @Override
    public void parsedHeader(HttpField field) {
      fields.add(field);
    }

    @Override
    public boolean headerComplete() {
      headComplete = true;
      // Stop at the end of the head: after a 101 the rest of the buffer is WebSocket frames.
      return status == HttpStatus.SWITCHING_PROTOCOLS_101;
    }

    @Override
    public boolean content(ByteBuffer content) {
      int n = Math.min(content.remaining(), maxBody - body.size());
      if (n > 0) {
        byte[] chunk = new byte[n];
        content.get(chunk);
        body.write(chunk, 0, n);
      }
      if (content.hasRemaining()) {
        content.position(content.limit()); // beyond the limit: dropped, and we stop reading
        bodyTruncated = true;
        return true;
      }
      return false;
    }

    @Override
    public boolean contentComplete() {
      return false;
    }

    @Override
    public boolean messageComplete() {
      messageComplete = true;
      return true;
    }

    @Override
    public void earlyEOF() {
      // Reported through the fill result; a cut-short error body is still relayed.
    }

    @Override
    public void badMessage(HttpException failure) {
      badMessage = failure;
    }
  }

  private enum Kind {
    UPGRADED,
    RELAY,
    FAILED
  }

  /** What the handshake came to, with the response as read. */
  private static final class Result {
    final Kind kind;
    final @Nullable Throwable cause;
    final ResponseReader response;
    final ProxyExchange exchange;

    Result(Kind kind, @Nullable Throwable cause, ResponseReader response, ProxyExchange exchange) {
      this.kind = kind;
      this.cause = cause;
      this.response = response;
      this.exchange = exchange;
    }
  }
}

package dev.affinity.jetty;

import dev.affinity.backend.Backend;
import dev.affinity.backend.CloseReason;
import dev.affinity.backend.ConnectionLease;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
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
final class BackendConnection extends TunnelEnd implements HttpParser.ResponseHandler {
  private final ProxyExchange exchange;
  private final Backend backend;
  private final ByteBufferPool pool;
  private final Scheduler scheduler;
  private final HttpParser parser;
  private final HttpFields.Mutable fields = HttpFields.build();
  private final Object lock = new Object();
  private final int maxBody;

  // Guarded by lock until the handshake is done; then read only by the thread that finished it.
  private boolean done;
  private @Nullable ConnectionLease lease;
  private Scheduler.@Nullable Task timeout;
  private @Nullable RetainableByteBuffer input;
  private int status;
  private boolean headComplete;
  private boolean messageComplete;
  private @Nullable HttpException badMessage;
  private final ByteArrayOutputStream body = new ByteArrayOutputStream();
  private boolean bodyTruncated;
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
    super(endPoint, executor, pool, bufferSize);
    this.pool = pool;
    this.scheduler = scheduler;
    this.exchange = exchange;
    this.backend = backend;
    this.maxBody = maxBody;
    this.parser = new HttpParser(this, maxResponseHeadBytes);
  }

  Backend backend() {
    return backend;
  }

  @Override
  public void onOpen() {
    super.onOpen();
    synchronized (lock) {
      if (!exchange.attach(this)) {
        done = true; // the client went away while we connected
      } else {
        lease = exchange.decision().openLease(backend, this::closeFor);
        timeout =
            scheduler.schedule(
                this::onHandshakeTimeout,
                exchange.handshakeTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
      }
    }
    if (lease == null) {
      getEndPoint().close();
      return;
    }
    getEndPoint().write(Callback.from(this::fillInterested, this::fail), exchange.head());
  }

  @Override
  public void onFillable() {
    Result result;
    synchronized (lock) {
      result = readHandshake();
    }
    deliver(result);
  }

  /** Reads and parses until the response head (and for non-101, the body) is in; under lock. */
  private @Nullable Result readHandshake() {
    if (done) {
      return null;
    }
    if (input == null) {
      input = pool.acquire(4096, false);
    }
    ByteBuffer in = input.getByteBuffer();
    try {
      while (true) {
        parser.parseNext(in);
        HttpException bad = badMessage;
        if (bad != null) {
          return finish(Kind.FAILED, (Throwable) bad);
        }
        if (headComplete && status == HttpStatus.SWITCHING_PROTOCOLS_101) {
          leftover = BufferUtil.hasContent(in) ? BufferUtil.copy(in) : null;
          return finish(Kind.UPGRADED, null);
        }
        if (headComplete && status < 200) {
          // 100 or 102 to a GET without a body is a broken backend, not an answer to relay.
          return finish(Kind.FAILED, new IOException("backend answered " + status));
        }
        if (messageComplete || bodyTruncated) {
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
          if (headComplete) {
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

  private Result finish(Kind kind, @Nullable Throwable cause) {
    done = true;
    Scheduler.Task t = timeout;
    if (t != null) {
      t.cancel();
    }
    RetainableByteBuffer in = input;
    if (in != null) {
      input = null;
      in.release();
    }
    return new Result(kind, cause);
  }

  /** Hands the outcome to the exchange, outside the lock, with the lease it now owns. */
  private void deliver(@Nullable Result result) {
    if (result == null) {
      return;
    }
    ConnectionLease l = lease;
    switch (result.kind) {
      case UPGRADED:
        exchange.upgraded(this, l, fields);
        break;
      case RELAY:
        getEndPoint().close();
        if (l != null) {
          l.close();
        }
        exchange.relay(status, fields, ByteBuffer.wrap(body.toByteArray()));
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
    Result result;
    synchronized (lock) {
      if (done) {
        return;
      }
      // A backend that answered with an error but stalls on its body: relay what we have.
      result =
          headComplete
              ? finish(Kind.RELAY, null)
              : finish(
                  Kind.FAILED,
                  new HandshakeTimeoutException(exchange.handshakeTimeout().toMillis()));
    }
    deliver(result);
  }

  private void fail(Throwable cause) {
    Result result;
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
   * on a lifecycle thread. A raw byte tunnel cannot tell frame boundaries, so it sends no close
   * frame: both TCP connections close and the client reconnects.
   */
  private void closeFor(CloseReason reason) {
    IOException cause = new ClosedByRouterException(reason);
    LiveTunnel t = tunnel();
    if (t != null) {
      t.close(cause);
    } else {
      getEndPoint().close(cause); // mid-handshake: fails this attempt, so failover picks another
    }
  }

  @Nullable ByteBuffer takeLeftover() {
    ByteBuffer b = leftover;
    leftover = null;
    return b;
  }

  // HttpParser.ResponseHandler: called under lock from parseNext.

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

  private enum Kind {
    UPGRADED,
    RELAY,
    FAILED
  }

  /** What the handshake came to. */
  private static final class Result {
    final Kind kind;
    final @Nullable Throwable cause;

    Result(Kind kind, @Nullable Throwable cause) {
      this.kind = kind;
      this.cause = cause;
    }
  }
}

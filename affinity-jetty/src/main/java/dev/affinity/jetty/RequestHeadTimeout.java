package dev.affinity.jetty;

import dev.affinity.internal.http.ErrorAnswer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * The request-head timeout: a connection whose first request head is not complete within the
 * timeout (a silent client, or a slow one sending a byte now and then) gets 408 and is closed.
 * Jetty resets its idle timeout on every byte, so a slow client would otherwise hold the connection
 * for as long as it keeps trickling. Registered on each connector by {@link AffinityHandler}; the
 * handler {@linkplain #arrived ends} the wait when a request reaches it.
 */
final class RequestHeadTimeout implements Connection.Listener {
  private final Scheduler scheduler;
  private final Duration timeout;
  private final Map<EndPoint, Scheduler.Task> waiting = new ConcurrentHashMap<>();

  RequestHeadTimeout(Scheduler scheduler, Duration timeout) {
    this.scheduler = scheduler;
    this.timeout = timeout;
  }

  @Override
  public void onOpened(Connection connection) {
    EndPoint ep = root(connection.getEndPoint());
    // A PROXY protocol connection opens first, then the HTTP one on the same socket: one wait.
    waiting.computeIfAbsent(
        ep, e -> scheduler.schedule(() -> expired(e), timeout.toMillis(), TimeUnit.MILLISECONDS));
  }

  @Override
  public void onClosed(Connection connection) {
    EndPoint ep = root(connection.getEndPoint());
    if (!ep.isOpen()) {
      Scheduler.Task t = waiting.remove(ep);
      if (t != null) {
        t.cancel();
      }
    }
  }

  /** A request head on {@code endPoint} reached the handler: no more waiting. */
  void arrived(EndPoint endPoint) {
    Scheduler.Task t = waiting.remove(root(endPoint));
    if (t != null) {
      t.cancel();
    }
  }

  private void expired(EndPoint ep) {
    if (waiting.remove(ep) == null || !ep.isOpen()) {
      return;
    }
    byte[] body = ErrorAnswer.body(408, ErrorAnswer.REQUEST_HEAD_TIMEOUT);
    String head =
        "HTTP/1.1 408 Request Timeout\r\n"
            + "Content-Type: "
            + ErrorAnswer.CONTENT_TYPE
            + "\r\nContent-Length: "
            + body.length
            + "\r\nConnection: close\r\n\r\n";
    ByteBuffer out =
        ByteBuffer.allocate(head.length() + body.length)
            .put(head.getBytes(StandardCharsets.ISO_8859_1))
            .put(body)
            .flip();
    ep.write(Callback.from(ep::close, failure -> ep.close()), out);
  }

  private static EndPoint root(EndPoint ep) {
    EndPoint e = ep;
    while (e instanceof EndPoint.Wrapper) {
      EndPoint inner = ((EndPoint.Wrapper) e).unwrap();
      if (inner == e) {
        break;
      }
      e = inner;
    }
    return e;
  }
}

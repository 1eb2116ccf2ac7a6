package dev.affinity.jetty;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

/**
 * A real Jetty HTTP backend on 127.0.0.1 for the plain-HTTP tests, counting the TCP connections it
 * accepts:
 *
 * <ul>
 *   <li>any path: {@code backend:<id>}, with its own {@code Set-Cookie: own=<id>};
 *   <li>{@code /headers}: the request's fields, one {@code name: value} line each;
 *   <li>{@code /hold}: answers only when {@link #release()} is called;
 *   <li>{@code /sse?n=N&pad=P}: a {@code text/event-stream} of N events {@code data: <i> <pad>},
 *       each written when the previous write completed (so a stalled client stalls it);
 *   <li>{@code /upload}: reads the whole body, answers {@code got:<bytes>};
 *   <li>{@code /hop}: a response naming {@code X-Private} in {@code Connection}.
 * </ul>
 */
final class HttpTestBackend implements AutoCloseable {
  private final String id;
  private final Server server = new Server();
  private final ServerConnector connector = new ServerConnector(server);
  private final AtomicInteger accepted = new AtomicInteger();
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicInteger maxOpen = new AtomicInteger();
  private final AtomicInteger held = new AtomicInteger();
  private final AtomicInteger requests = new AtomicInteger();
  private final CompletableFuture<Void> released = new CompletableFuture<>();
  private final AtomicLong sseWritten = new AtomicLong();
  private final AtomicBoolean sseWritePending = new AtomicBoolean();
  private final AtomicInteger sseCompletedWrites = new AtomicInteger();

  HttpTestBackend(String id) throws Exception {
    this.id = id;
    connector.setHost("127.0.0.1");
    connector.addEventListener(
        new Connection.Listener() {
          @Override
          public void onOpened(Connection connection) {
            accepted.incrementAndGet();
            maxOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
          }

          @Override
          public void onClosed(Connection connection) {
            open.decrementAndGet();
          }
        });
    server.addConnector(connector);
    server.setHandler(
        new Handler.Abstract() {
          @Override
          public boolean handle(Request request, Response response, Callback callback) {
            return serve(request, response, callback);
          }
        });
    server.start();
  }

  private boolean serve(Request request, Response response, Callback callback) {
    requests.incrementAndGet();
    String path = request.getHttpURI().getPath();
    response.getHeaders().add(HttpHeader.SET_COOKIE, "own=" + id + "; Path=/");
    switch (path) {
      case "/headers":
        StringBuilder sb = new StringBuilder();
        for (HttpField f : request.getHeaders()) {
          sb.append(f.getName()).append(": ").append(f.getValue()).append('\n');
        }
        text(response, callback, sb.toString());
        return true;
      case "/hold":
        held.incrementAndGet();
        released.thenRun(() -> text(response, callback, "backend:" + id));
        return true;
      case "/sse":
        Fields q = Request.extractQueryParameters(request);
        int n = Integer.parseInt(q.getValue("n"));
        String pad =
            "x".repeat(Integer.parseInt(q.getValue("pad") == null ? "0" : q.getValue("pad")));
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream");
        new SseWriter(response, callback, n, pad).next();
        return true;
      case "/upload":
        Content.Source.asString(
            request,
            StandardCharsets.ISO_8859_1,
            new org.eclipse.jetty.util.Promise<String>() {
              @Override
              public void succeeded(String body) {
                text(response, callback, "got:" + body.length());
              }

              @Override
              public void failed(Throwable x) {
                callback.failed(x);
              }
            });
        return true;
      case "/hop":
        response.getHeaders().put(HttpHeader.CONNECTION, "X-Private");
        response.getHeaders().put("X-Private", "secret");
        response.getHeaders().put("X-Public", "visible");
        text(response, callback, "backend:" + id);
        return true;
      default:
        text(response, callback, "backend:" + id);
        return true;
    }
  }

  private final class SseWriter implements Callback {
    private final Response response;
    private final Callback done;
    private final int n;
    private final String pad;
    private int i;

    SseWriter(Response response, Callback done, int n, String pad) {
      this.response = response;
      this.done = done;
      this.n = n;
      this.pad = pad;
    }

    void next() {
      if (i == n) {
        response.write(true, null, done);
        return;
      }
      byte[] event = ("data: " + i++ + " " + pad + "\n\n").getBytes(StandardCharsets.UTF_8);
      sseWritePending.set(true);
      sseWritten.addAndGet(event.length);
      response.write(false, ByteBuffer.wrap(event), this);
    }

    @Override
    public void succeeded() {
      sseWritePending.set(false);
      sseCompletedWrites.incrementAndGet();
      next();
    }

    @Override
    public void failed(Throwable x) {
      sseWritePending.set(false);
      done.failed(x);
    }
  }

  private static void text(Response response, Callback callback, String body) {
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
    Content.Sink.write(response, true, body, callback);
  }

  String id() {
    return id;
  }

  int port() {
    return connector.getLocalPort();
  }

  /** TCP connections accepted so far. */
  int accepted() {
    return accepted.get();
  }

  /** TCP connections open now. */
  int open() {
    return open.get();
  }

  /** The most TCP connections open at once so far. */
  int maxOpen() {
    return maxOpen.get();
  }

  /** Requests served (or being served) so far. */
  int requests() {
    return requests.get();
  }

  /** {@code /hold} requests received so far. */
  int held() {
    return held.get();
  }

  /** Answers every {@code /hold} request received so far and from now on. */
  void release() {
    released.complete(null);
  }

  /** Bytes of SSE events handed to Jetty so far. */
  long sseWritten() {
    return sseWritten.get();
  }

  /** Whether an SSE write is waiting for the connection to take it. */
  boolean sseWritePending() {
    return sseWritePending.get();
  }

  /** How many SSE writes completed so far. */
  int sseCompletedWrites() {
    return sseCompletedWrites.get();
  }

  static List<HttpTestBackend> start(int count) throws Exception {
    List<HttpTestBackend> list = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      list.add(new HttpTestBackend("http-" + i));
    }
    return list;
  }

  @Override
  public void close() {
    released.complete(null);
    try {
      server.stop();
    } catch (Exception e) {
      throw new IllegalStateException("stopping backend " + id, e);
    }
  }
}

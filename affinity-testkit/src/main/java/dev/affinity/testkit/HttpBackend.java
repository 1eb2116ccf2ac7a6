package dev.affinity.testkit;

import static java.util.Objects.requireNonNull;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * A real HTTP/1.1 backend on 127.0.0.1 for the plain-HTTP proxy scenarios, written on blocking
 * sockets (one thread per connection) so that what it receives and how its writes stall are exactly
 * what the proxy sent and allowed: no framework normalizes headers on the way.
 *
 * <p>Every response carries {@code X-Backend: <id>}. Keep-alive is honoured (a connection serves
 * requests until the client closes it or sends {@code Connection: close}). What it answers:
 *
 * <ul>
 *   <li>any path not below: {@code 200}, body {@code <id>} ({@code Content-Length});
 *   <li>{@code /echo}: {@code 200} with the request body (read by {@code Content-Length} or
 *       chunked) as the body;
 *   <li>{@code /chunked?n=<chunks>&size=<bytes>}: a chunked {@code 200} of {@code n} chunks of
 *       {@code size} bytes, byte {@code i} of the body being {@code 'a' + i % 26};
 *   <li>{@code /hop}: {@code 200} with {@code Connection: X-Backend-Hop}, {@code X-Backend-Hop: 1}
 *       and {@code Keep-Alive: timeout=5}, none of which a proxy may relay;
 *   <li>{@code /set-cookie}: {@code 200} with the backend's own {@code Set-Cookie: app=1};
 *   <li>{@code /status/<code>}: that status with body {@code <id>};
 *   <li>{@code /hang}: reads the request and never answers (until {@link #close()});
 *   <li>{@code /sse-page?n=<events>}: an HTML page whose {@code EventSource} reads {@code
 *       /sse?n=<events>} into {@code window.events} (for a browser test);
 *   <li>{@code /sse?n=<events>&pad=<bytes>}: {@code text/event-stream}, chunked, events {@code id:
 *       <i>} / {@code data: <i> <pad x's>} for i = 0..n-1 (n = -1: until the client goes away), one
 *       flush per event; {@link #sseBytesWritten()} counts the body bytes whose write returned, so
 *       a stalled client shows as a count that stops growing.
 * </ul>
 *
 * <p>{@link #accepted()} counts accepted TCP connections, {@link #requests()} records every request
 * (head and body).
 *
 * <pre>{@code
 * try (HttpBackend b = HttpBackend.start("http-1")) {
 *   Backend backend = Backend.of(b.id(), "127.0.0.1", b.port());
 * }
 * }</pre>
 */
public final class HttpBackend implements AutoCloseable {
  private static final int MAX_HEAD = 64 * 1024;
  private static final int MAX_BODY = 64 * 1024 * 1024;
  private static final String SSE_HEADERS =
      String.join(
          "\r\n",
          "Content-Type: text/event-stream",
          "Cache-Control: no-cache",
          "Transfer-Encoding: chunked",
          "");

  private final String id;
  private final ServerSocket server;
  private final ExecutorService threads;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger accepted = new AtomicInteger();
  private final AtomicLong sseBytes = new AtomicLong();
  private final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();
  private volatile boolean closed;

  private HttpBackend(String id, ServerSocket server) {
    this.id = id;
    this.server = server;
    this.threads =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "http-backend-" + id);
              t.setDaemon(true);
              return t;
            });
    threads.execute(this::acceptLoop);
  }

  /**
   * Starts a backend announcing {@code id} on an ephemeral port of 127.0.0.1.
   *
   * @throws UncheckedIOException if it cannot bind
   */
  public static HttpBackend start(String id) {
    requireNonNull(id, "id");
    try {
      ServerSocket s = new ServerSocket();
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 200);
      return new HttpBackend(id, s);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot bind an HTTP backend", e);
    }
  }

  /** The id it puts in {@code X-Backend} and default bodies. */
  public String id() {
    return id;
  }

  /** Its port on 127.0.0.1. */
  public int port() {
    return server.getLocalPort();
  }

  /** How many TCP connections it has accepted so far. */
  public int accepted() {
    return accepted.get();
  }

  /** How many connections are open now. */
  public int openConnections() {
    return open.size();
  }

  /** Every request it received, in arrival order across connections. */
  public List<Request> requests() {
    return List.copyOf(requests);
  }

  /** The last request it received, for tests that sent one. */
  public Request lastRequest() {
    List<Request> all = requests();
    if (all.isEmpty()) {
      throw new AssertionError(id + " received no request");
    }
    return all.get(all.size() - 1);
  }

  /** The SSE body bytes whose socket write has returned (across all {@code /sse} streams). */
  public long sseBytesWritten() {
    return sseBytes.get();
  }

  /** Closes the listener and every connection, and waits (bounded) for its threads. */
  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
    for (Socket s : open) {
      closeQuietly(s);
    }
    synchronized (this) {
      notifyAll(); // wakes /hang answers
    }
    threads.shutdownNow();
    try {
      threads.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void acceptLoop() {
    while (!closed) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      accepted.incrementAndGet();
      open.add(s);
      try {
        threads.execute(() -> serve(s));
      } catch (java.util.concurrent.RejectedExecutionException e) {
        closeQuietly(s);
        open.remove(s);
      }
    }
  }

  private void serve(Socket s) {
    try (s) {
      s.setTcpNoDelay(true);
      InputStream in = new BufferedInputStream(s.getInputStream());
      OutputStream out = s.getOutputStream();
      while (!closed) {
        Request r = readRequest(in);
        if (r == null) {
          return;
        }
        requests.add(r);
        if (!answer(r, out)) {
          return;
        }
      }
    } catch (IOException e) {
      // the client went away, or close(): nothing to report
    } finally {
      open.remove(s);
    }
  }

  /** Writes the answer; returns whether the connection stays open for the next request. */
  private boolean answer(Request r, OutputStream out) throws IOException {
    String path = r.path();
    Map<String, String> query = r.query();
    boolean keepAlive = !"close".equalsIgnoreCase(r.header("Connection"));
    String connection = keepAlive ? "" : "Connection: close\r\n";
    if (path.equals("/hang")) {
      awaitClose();
      return false;
    }
    if (path.equals("/echo")) {
      writeFull(out, 200, "", r.body(), connection);
    } else if (path.equals("/chunked")) {
      int n = Integer.parseInt(query.getOrDefault("n", "10"));
      int size = Integer.parseInt(query.getOrDefault("size", "100"));
      out.write(
          head(200, "Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\n" + connection));
      long offset = 0;
      for (int i = 0; i < n; i++) {
        byte[] chunk = new byte[size];
        for (int k = 0; k < size; k++) {
          chunk[k] = (byte) ('a' + (offset + k) % 26);
        }
        offset += size;
        out.write(ascii(Integer.toHexString(size) + "\r\n"));
        out.write(chunk);
        out.write(ascii("\r\n"));
        out.flush();
      }
      out.write(ascii("0\r\n\r\n"));
      out.flush();
    } else if (path.equals("/hop")) {
      writeFull(
          out,
          200,
          "Connection: X-Backend-Hop\r\nX-Backend-Hop: 1\r\nKeep-Alive: timeout=5\r\n",
          ascii(id),
          connection);
    } else if (path.equals("/set-cookie")) {
      writeFull(out, 200, "Set-Cookie: app=1; Path=/\r\n", ascii(id), connection);
    } else if (path.startsWith("/status/")) {
      writeFull(out, Integer.parseInt(path.substring(8)), "", ascii(id), connection);
    } else if (path.equals("/sse-page")) {
      writeFull(
          out, 200, "Content-Type: text/html; charset=utf-8\r\n", ascii(ssePage()), connection);
    } else if (path.equals("/sse")) {
      streamEvents(
          out,
          Integer.parseInt(query.getOrDefault("n", "1000")),
          Integer.parseInt(query.getOrDefault("pad", "0")));
      return false;
    } else {
      writeFull(out, 200, "Content-Type: text/plain\r\n", ascii(id), connection);
    }
    return keepAlive;
  }

  /**
   * A page whose script opens {@code EventSource("sse?n=<n>")} and collects each event's data in
   * {@code window.events}, closing the source after event {@code n-1} (EventSource would otherwise
   * reconnect when the stream ends); errors are counted in {@code window.sseErrors}.
   */
  private static String ssePage() {
    return """
        <!doctype html><html><head><title>sse</title></head><body><script>
        window.events = []; window.sseErrors = 0; window.sseDone = false;
        const n = Number(new URLSearchParams(location.search).get('n') || '1000');
        const es = new EventSource('sse?n=' + n);
        es.onmessage = (e) => {
          window.events.push(e.data);
          if (e.data === String(n - 1)) { es.close(); window.sseDone = true; }
        };
        es.onerror = () => { window.sseErrors++; };
        </script></body></html>
        """;
  }

  private void streamEvents(OutputStream out, int n, int pad) throws IOException {
    out.write(head(200, SSE_HEADERS));
    out.flush();
    String padding = "x".repeat(pad);
    for (int i = 0; n < 0 || i < n; i++) {
      if (closed) {
        return;
      }
      byte[] event = ascii("id: " + i + "\ndata: " + i + (pad > 0 ? " " + padding : "") + "\n\n");
      byte[] chunk = ascii(Integer.toHexString(event.length) + "\r\n");
      out.write(chunk);
      out.write(event);
      out.write(ascii("\r\n"));
      out.flush();
      sseBytes.addAndGet(chunk.length + event.length + 2L);
    }
    out.write(ascii("0\r\n\r\n"));
    out.flush();
  }

  private void awaitClose() {
    synchronized (this) {
      while (!closed) {
        try {
          wait(1000); // close() notifies; the timeout only re-checks the flag
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  private byte[] head(int status, String extra) {
    return ascii(
        "HTTP/1.1 "
            + status
            + " "
            + reason(status)
            + "\r\nX-Backend: "
            + id
            + "\r\n"
            + extra
            + "\r\n");
  }

  private void writeFull(OutputStream out, int status, String extra, byte[] body, String connection)
      throws IOException {
    out.write(head(status, extra + connection + "Content-Length: " + body.length + "\r\n"));
    out.write(body);
    out.flush();
  }

  private static String reason(int status) {
    switch (status) {
      case 200:
        return "OK";
      case 404:
        return "Not Found";
      case 500:
        return "Internal Server Error";
      case 503:
        return "Service Unavailable";
      default:
        return "Status";
    }
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // nothing to do
    }
  }

  private static @Nullable Request readRequest(InputStream in) throws IOException {
    String head = readHead(in);
    if (head == null) {
      return null;
    }
    String[] lines = head.split("\r\n", -1);
    String[] requestLine = lines[0].split(" ", 3);
    if (requestLine.length != 3) {
      throw new IOException("bad request line: " + lines[0]);
    }
    List<String[]> headers = new ArrayList<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon > 0) {
        headers.add(
            new String[] {lines[i].substring(0, colon), lines[i].substring(colon + 1).strip()});
      }
    }
    Request r = new Request(requestLine[0], requestLine[1], headers, new byte[0]);
    String te = r.header("Transfer-Encoding");
    String length = r.header("Content-Length");
    byte[] body;
    if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
      body = readChunked(in);
    } else if (length != null) {
      int n = Integer.parseInt(length.strip());
      if (n > MAX_BODY) {
        throw new IOException("body too large: " + n);
      }
      body = in.readNBytes(n);
      if (body.length < n) {
        throw new EOFException("body ended after " + body.length + " of " + n);
      }
    } else {
      body = new byte[0];
    }
    return new Request(r.method(), r.target(), headers, body);
  }

  private static @Nullable String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int state = 0;
    while (state < 4) {
      int b = in.read();
      if (b < 0) {
        if (head.size() == 0) {
          return null;
        }
        throw new EOFException("connection closed inside a request head");
      }
      head.write(b);
      if (head.size() > MAX_HEAD) {
        throw new IOException("request head longer than " + MAX_HEAD);
      }
      state =
          (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3))
              ? state + 1
              : (b == '\r' ? 1 : 0);
    }
    String s = head.toString(StandardCharsets.ISO_8859_1);
    return s.substring(0, s.length() - 4);
  }

  /** Decodes a chunked body (RFC 9112 section 7.1), trailers read and dropped. */
  static byte[] readChunked(InputStream in) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String sizeLine = readLine(in);
      int semi = sizeLine.indexOf(';');
      int size = Integer.parseInt((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).strip(), 16);
      if (size == 0) {
        while (!readLine(in).isEmpty()) {
          // trailer field: dropped
        }
        return body.toByteArray();
      }
      if (body.size() + (long) size > MAX_BODY) {
        throw new IOException("chunked body larger than " + MAX_BODY);
      }
      byte[] chunk = in.readNBytes(size);
      if (chunk.length < size) {
        throw new EOFException("chunk ended early");
      }
      body.write(chunk);
      if (!readLine(in).isEmpty()) {
        throw new IOException("no CRLF after a chunk");
      }
    }
  }

  /** Reads a CRLF-terminated line (without it): {@link RawConnection}'s line reader. */
  static String readLine(InputStream in) throws IOException {
    return RawConnection.readLine(in);
  }

  /** A request as the backend received it. */
  public static final class Request {
    private final String method;
    private final String target;
    private final List<String[]> headers;
    private final byte[] body;

    Request(String method, String target, List<String[]> headers, byte[] body) {
      this.method = method;
      this.target = target;
      this.headers = List.copyOf(headers);
      this.body = body.clone();
    }

    /** The request method. */
    public String method() {
      return method;
    }

    /** The request target as received (origin-form from a proxy). */
    public String target() {
      return target;
    }

    /** The path of {@link #target()}, without the query. */
    public String path() {
      int q = target.indexOf('?');
      return q < 0 ? target : target.substring(0, q);
    }

    /** The query parameters of {@link #target()} (last value wins, no decoding). */
    public Map<String, String> query() {
      Map<String, String> m = new HashMap<>();
      int q = target.indexOf('?');
      if (q >= 0) {
        for (String pair : target.substring(q + 1).split("&", -1)) {
          int eq = pair.indexOf('=');
          if (eq > 0) {
            m.put(pair.substring(0, eq), pair.substring(eq + 1));
          }
        }
      }
      return m;
    }

    /** The first value of field {@code name} (case-insensitive), or null. */
    public @Nullable String header(String name) {
      List<String> all = headers(name);
      return all.isEmpty() ? null : all.get(0);
    }

    /** Every value of field {@code name} (case-insensitive), in order. */
    public List<String> headers(String name) {
      List<String> out = new ArrayList<>();
      for (String[] h : headers) {
        if (h[0].equalsIgnoreCase(name)) {
          out.add(h[1]);
        }
      }
      return out;
    }

    /** The field names in order, as received. */
    public List<String> headerNames() {
      List<String> out = new ArrayList<>();
      for (String[] h : headers) {
        out.add(h[0]);
      }
      return out;
    }

    /** The body, de-chunked if it came chunked. */
    public byte[] body() {
      return body.clone();
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder(method).append(' ').append(target);
      for (String[] h : headers) {
        sb.append("; ").append(h[0]).append(": ").append(h[1]);
      }
      return sb.append(" (").append(body.length).append(" body bytes)").toString();
    }
  }

  @Override
  public String toString() {
    return "HttpBackend{" + id + " on 127.0.0.1:" + (closed ? "closed" : port()) + "}";
  }
}

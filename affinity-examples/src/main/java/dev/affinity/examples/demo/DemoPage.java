package dev.affinity.examples.demo;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Serves the demo page and its control API on the JDK's built-in HTTP server, on a loopback address
 * only.
 *
 * <ul>
 *   <li>{@code GET /} the page;
 *   <li>{@code GET /api/state} the proxy's URL, the backends (running, router state, live
 *       connections) and the fingerprint of the affinity cookie this browser holds (the page cannot
 *       read the cookie itself: it is {@code HttpOnly});
 *   <li>{@code POST /api/backends/{id}/stop} and {@code .../start}.
 * </ul>
 *
 * <p>The control API answers only requests whose {@code Host} is this server's loopback address and
 * whose {@code Origin}, when sent, is this page: another site open in the same browser cannot stop
 * backends (CSRF), nor can a DNS name rebound to 127.0.0.1.
 */
public final class DemoPage implements AutoCloseable {
  /** What the page shows and controls. */
  public interface Control {
    /** The WebSocket URL of the proxy, for the page to connect to. */
    String proxyUrl();

    /** Which adapter runs the proxy, for the page's title line. */
    String server();

    /** The affinity cookie's name. */
    String cookieName();

    /** The backends, in display order. */
    List<BackendView> backends();

    /** Stops a backend; false if there is none with that id. */
    boolean stop(String id);

    /** Starts a backend; false if there is none with that id. */
    boolean start(String id);
  }

  /**
   * One backend as the page shows it.
   *
   * @param id the backend id
   * @param port its port on 127.0.0.1
   * @param running whether it is listening
   * @param state the router's view: UP, DRAINING or DOWN
   * @param connections live connections the proxy counts to it
   */
  public record BackendView(String id, int port, boolean running, String state, int connections) {}

  private static final System.Logger LOG = System.getLogger(DemoPage.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern CONTROL = Pattern.compile("/api/backends/([^/]+)/(stop|start)");

  private final HttpServer server;
  private final ExecutorService executor;
  private final Control control;
  private final byte[] page;
  private final String origin;

  private DemoPage(HttpServer server, ExecutorService executor, Control control, byte[] page) {
    this.server = server;
    this.executor = executor;
    this.control = control;
    this.page = page;
    InetSocketAddress a = server.getAddress();
    this.origin = "http://" + a.getAddress().getHostAddress() + ":" + a.getPort();
  }

  /**
   * Serves the page on {@code address}, which must be a loopback address (port 0 picks one).
   *
   * @throws IllegalArgumentException if the address is not loopback
   * @throws UncheckedIOException if it cannot bind
   */
  public static DemoPage start(InetSocketAddress address, Control control) {
    requireNonNull(address, "address");
    requireNonNull(control, "control");
    if (address.isUnresolved() || !address.getAddress().isLoopbackAddress()) {
      throw new IllegalArgumentException(
          "demo page: " + address + " (expected: a loopback address such as 127.0.0.1)");
    }
    byte[] page;
    try (InputStream in = DemoPage.class.getResourceAsStream("index.html")) {
      if (in == null) {
        throw new IllegalStateException("index.html is missing from the jar");
      }
      page = in.readAllBytes();
      HttpServer server = HttpServer.create(address, 16);
      ExecutorService executor =
          Executors.newFixedThreadPool(
              2,
              r -> {
                Thread t = new Thread(r, "demo-page");
                t.setDaemon(true);
                return t;
              });
      server.setExecutor(executor);
      DemoPage demoPage = new DemoPage(server, executor, control, page);
      server.createContext("/", demoPage::handle);
      server.start();
      return demoPage;
    } catch (IOException e) {
      throw new UncheckedIOException("demo page: cannot listen on " + address, e);
    }
  }

  /** The page's URL, such as {@code http://127.0.0.1:8081/}. */
  public String url() {
    return origin + "/";
  }

  /** The bound address. */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod().toUpperCase(Locale.ROOT);
      if (!isOwnHost(ex.getRequestHeaders().getFirst("Host"))) {
        send(ex, 421, "text/plain", "wrong Host header\n");
        return;
      }
      if (path.equals("/") || path.equals("/index.html")) {
        if (!method.equals("GET") && !method.equals("HEAD")) {
          send(ex, 405, "text/plain", "use GET\n");
          return;
        }
        send(ex, 200, "text/html; charset=utf-8", page);
        return;
      }
      if (path.equals("/favicon.ico")) {
        // The page declares an empty icon; browsers that ask anyway get no content, not a 404.
        send(ex, 204, "image/x-icon", new byte[0]);
        return;
      }
      if (path.equals("/api/state")) {
        send(ex, 200, "application/json", state(ex));
        return;
      }
      Matcher m = CONTROL.matcher(path);
      if (m.matches()) {
        control(ex, method, m.group(1), m.group(2));
        return;
      }
      send(ex, 404, "text/plain", "not found\n");
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "demo page request failed", e);
      send(ex, 500, "text/plain", "internal error\n");
    }
  }

  private void control(HttpExchange ex, String method, String id, String action)
      throws IOException {
    if (!method.equals("POST")) {
      send(ex, 405, "text/plain", "use POST\n");
      return;
    }
    // The page may be opened as 127.0.0.1, localhost or [::1] (the Host check allowed those): its
    // own origin is the one that names the Host it was served from.
    String requestOrigin = ex.getRequestHeaders().getFirst("Origin");
    String ownOrigin = "http://" + ex.getRequestHeaders().getFirst("Host");
    if (requestOrigin != null
        && !requestOrigin.equals(origin)
        && !requestOrigin.equals(ownOrigin)) {
      send(ex, 403, "text/plain", "cross-origin control requests are refused\n");
      return;
    }
    boolean known = action.equals("stop") ? control.stop(id) : control.start(id);
    if (!known) {
      send(ex, 404, "text/plain", "no backend " + id + "\n");
      return;
    }
    LOG.log(
        System.Logger.Level.INFO,
        "demo: backend {0} {1}",
        id,
        action.equals("stop") ? "stopped" : "started");
    send(ex, 200, "application/json", state(ex));
  }

  private boolean isOwnHost(@Nullable String host) {
    if (host == null) {
      return false;
    }
    int port = server.getAddress().getPort();
    return host.equals(origin.substring("http://".length()))
        || host.equals("localhost:" + port)
        || host.equals("[::1]:" + port);
  }

  private String state(HttpExchange ex) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("proxy", control.proxyUrl());
    root.put("server", control.server());
    root.put("cookieName", control.cookieName());
    String cookie = cookie(ex.getRequestHeaders().get("Cookie"), control.cookieName());
    if (cookie == null) {
      root.putNull("cookie");
    } else {
      root.put("cookie", CookieFingerprint.of(cookie));
    }
    ArrayNode backends = root.putArray("backends");
    for (BackendView b : control.backends()) {
      ObjectNode n = backends.addObject();
      n.put("id", b.id());
      n.put("port", b.port());
      n.put("running", b.running());
      n.put("state", b.state());
      n.put("connections", b.connections());
    }
    return JSON.writeValueAsString(root);
  }

  private static @Nullable String cookie(@Nullable List<String> headers, String name) {
    if (headers == null) {
      return null;
    }
    for (String header : headers) {
      for (Cookie c : ServerCookieDecoder.STRICT.decodeAll(header)) {
        if (c.name().equals(name)) {
          return c.value();
        }
      }
    }
    return null;
  }

  private static void send(HttpExchange ex, int status, String type, String body)
      throws IOException {
    send(ex, status, type, body.getBytes(StandardCharsets.UTF_8));
  }

  private static void send(HttpExchange ex, int status, String type, byte[] body)
      throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    boolean head = ex.getRequestMethod().equalsIgnoreCase("HEAD");
    ex.sendResponseHeaders(status, head || body.length == 0 ? -1 : body.length);
    if (!head) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
  }
}

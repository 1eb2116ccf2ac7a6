package dev.affinity.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.affinity.AffinityConfigurationException;
import dev.affinity.UnknownBackendException;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.redis.FleetUnavailableException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.TypeConversionException;

/**
 * The admin API: JSON endpoints over the backend group and Prometheus text on {@code /metrics}, on
 * its own listener, answering nothing without a bearer token. Runs on the JDK's HTTP server with
 * two threads: it is for operators and scrapers, not for traffic.
 *
 * <table>
 *   <caption>Endpoints</caption>
 *   <tr><td>GET /backends</td><td>every backend: state, weight, live connections, health,
 *       drain deadline</td></tr>
 *   <tr><td>GET /backends/ID</td><td>one backend</td></tr>
 *   <tr><td>POST /backends</td><td>add: {@code {"id":"ws-4","uri":"ws://10.0.0.4:9000",
 *       "weight":1,"maxConnections":1000}}</td></tr>
 *   <tr><td>DELETE /backends/ID</td><td>remove</td></tr>
 *   <tr><td>POST /backends/ID/drain</td><td>{@code {"deadline":"10m"}} (or no body: no
 *       deadline)</td></tr>
 *   <tr><td>POST /backends/ID/down, /up</td><td>administrative state</td></tr>
 *   <tr><td>POST /backends/ID/weight</td><td>{@code {"weight":3}}</td></tr>
 *   <tr><td>GET /membership</td><td>version and fingerprint</td></tr>
 *   <tr><td>POST /reload</td><td>re-read the configuration file</td></tr>
 *   <tr><td>GET /metrics</td><td>Prometheus text format</td></tr>
 * </table>
 */
final class AdminServer implements AutoCloseable {
  private static final System.Logger AUDIT = System.getLogger("dev.affinity.proxy.admin");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BODY = 64 * 1024;
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  /** What {@code POST /reload} does; returns a one-line summary or throws naming the problem. */
  interface Reloader {
    String reload();
  }

  private final HttpServer server;
  private final ExecutorService executor;
  private final AdminTokens tokens;
  private final BackendGroup group;
  private final OperatorChanges changes;
  private final @Nullable Supplier<String> metrics;
  private final @Nullable Reloader reloader;

  private AdminServer(
      HttpServer server,
      ExecutorService executor,
      AdminTokens tokens,
      BackendGroup group,
      OperatorChanges changes,
      @Nullable Supplier<String> metrics,
      @Nullable Reloader reloader) {
    this.server = server;
    this.executor = executor;
    this.tokens = tokens;
    this.group = group;
    this.changes = changes;
    this.metrics = metrics;
    this.reloader = reloader;
  }

  /**
   * Binds {@code address} and serves.
   *
   * @param changes where operator changes go: this group, or the fleet
   * @param metrics the Prometheus scrape, or null for none (404)
   * @param reloader the reload action, or null when there is no configuration file (404)
   * @throws UncheckedIOException if the address cannot be bound
   */
  static AdminServer start(
      InetSocketAddress address,
      AdminTokens tokens,
      BackendGroup group,
      OperatorChanges changes,
      @Nullable Supplier<String> metrics,
      @Nullable Reloader reloader) {
    HttpServer server;
    try {
      server = HttpServer.create(address, 16);
    } catch (IOException e) {
      throw new UncheckedIOException("the admin API cannot listen on " + address, e);
    }
    ExecutorService executor =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "affinity-admin");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    AdminServer admin =
        new AdminServer(server, executor, tokens, group, changes, metrics, reloader);
    server.createContext("/", admin::handle);
    server.start();
    return admin;
  }

  /** The bound address (the real port when port 0 was asked for). */
  InetSocketAddress address() {
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

  /** A 4xx/5xx answer with a JSON error; {@code field} is null when no one field is at fault. */
  private static final class Failure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int status;
    final @Nullable String field;

    Failure(int status, @Nullable String field, String message) {
      super(message, null, false, false);
      this.status = status;
      this.field = field;
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      try {
        String who = authenticate(ex);
        route(ex, who);
      } catch (Failure f) {
        ObjectNode body = JSON.createObjectNode();
        body.put("error", f.getMessage());
        if (f.field != null) {
          body.put("field", f.field);
        }
        if (f.status == 401) {
          ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"affinity-admin\"");
        }
        send(ex, f.status, body);
      } catch (FleetUnavailableException e) {
        // With --redis a change goes through Redis; unreachable, nothing changed anywhere.
        ObjectNode body = JSON.createObjectNode();
        body.put("error", "fleet unavailable: " + e.getMessage());
        send(ex, 503, body);
      } catch (RuntimeException e) {
        AUDIT.log(System.Logger.Level.WARNING, "admin request failed", e);
        ObjectNode body = JSON.createObjectNode();
        body.put("error", "internal error: " + e.getClass().getSimpleName());
        send(ex, 500, body);
      }
    }
  }

  private String authenticate(HttpExchange ex) {
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    if (auth == null) {
      throw new Failure(401, null, "missing bearer token (expected: Authorization: Bearer TOKEN)");
    }
    if (!auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw new Failure(401, null, "not a bearer token (expected: Authorization: Bearer TOKEN)");
    }
    String name = tokens.nameOf(auth.substring(7).strip());
    if (name == null) {
      throw new Failure(401, null, "unknown bearer token");
    }
    return name;
  }

  private void route(HttpExchange ex, String who) throws IOException {
    String method = ex.getRequestMethod().toUpperCase(Locale.ROOT);
    String path = ex.getRequestURI().getPath();
    List<String> parts =
        List.of(path.replaceAll("^/+|/+$", "").split("/+", -1)).stream()
            .filter(s -> !s.isEmpty())
            .toList();
    if (parts.isEmpty()) {
      throw new Failure(404, null, "no such endpoint: " + path);
    }
    switch (parts.get(0)) {
      case "metrics":
        allow(ex, method, parts, 1, "GET");
        if (metrics == null) {
          throw new Failure(404, null, "metrics are off");
        }
        sendText(ex, 200, PROMETHEUS_TEXT, metrics.get());
        return;
      case "membership":
        allow(ex, method, parts, 1, "GET");
        Membership m = group.snapshot();
        ObjectNode body = JSON.createObjectNode();
        body.put("version", m.version());
        body.put("fingerprint", m.fingerprint());
        body.put("backends", m.size());
        send(ex, 200, body);
        return;
      case "reload":
        allow(ex, method, parts, 1, "POST");
        if (reloader == null) {
          throw new Failure(404, null, "no configuration file to reload (expected: --config)");
        }
        String summary;
        try {
          summary = reloader.reload();
        } catch (IllegalArgumentException e) {
          throw new Failure(422, "config", String.valueOf(e.getMessage()));
        }
        audit(who, "reload", summary);
        send(ex, 200, JSON.createObjectNode().put("reloaded", summary));
        return;
      case "backends":
        backends(ex, method, parts, who);
        return;
      default:
        throw new Failure(404, null, "no such endpoint: " + path);
    }
  }

  private void backends(HttpExchange ex, String method, List<String> parts, String who)
      throws IOException {
    if (parts.size() == 1) {
      if (method.equals("GET")) {
        ArrayNode list = JSON.createArrayNode();
        for (Member m : group.snapshot().members()) {
          list.add(view(m));
        }
        send(ex, 200, JSON.createObjectNode().set("backends", list));
        return;
      }
      allow(ex, method, parts, 1, "POST");
      Backend b = parseBackend(readJson(ex));
      try {
        changes.add(b);
      } catch (AffinityConfigurationException e) {
        throw new Failure(409, "id", "id: " + b.id() + " is already a backend");
      }
      audit(who, "add", b.toString());
      send(ex, 201, view(member(b.id())));
      return;
    }
    String id = parts.get(1);
    if (parts.size() == 2) {
      switch (method) {
        case "GET":
          send(ex, 200, view(member(id)));
          return;
        case "DELETE":
          if (!changes.remove(id)) {
            throw unknown(id);
          }
          audit(who, "remove", id);
          send(ex, 200, JSON.createObjectNode().put("removed", id));
          return;
        default:
          throw methodNotAllowed(ex, "GET, DELETE");
      }
    }
    allow(ex, method, parts, 3, "POST");
    String action = parts.get(2);
    try {
      switch (action) {
        case "drain":
          {
            JsonNode body = readJsonOrEmpty(ex);
            JsonNode d = body.get("deadline");
            if (d == null || d.isNull()) {
              changes.drain(id);
              audit(who, "drain", id + " deadline=none");
            } else {
              Duration deadline = duration("deadline", d);
              changes.drain(id, deadline);
              audit(who, "drain", id + " deadline=" + deadline);
            }
            break;
          }
        case "down":
          changes.markDown(id);
          audit(who, "down", id);
          break;
        case "up":
          changes.markUp(id);
          audit(who, "up", id);
          break;
        case "weight":
          {
            JsonNode w = readJson(ex).get("weight");
            if (w == null || !w.canConvertToInt() || !w.isIntegralNumber()) {
              throw new Failure(
                  400,
                  "weight",
                  "weight: "
                      + (w == null ? "missing" : w.toString())
                      + " (expected: an integer 1.."
                      + Backend.MAX_WEIGHT
                      + ")");
            }
            Backend updated;
            try {
              updated = member(id).backend().withWeight(w.intValue());
            } catch (AffinityConfigurationException e) {
              throw new Failure(400, "weight", String.valueOf(e.getMessage()));
            }
            changes.update(updated);
            audit(who, "weight", id + " weight=" + w.intValue());
            break;
          }
        default:
          throw new Failure(404, null, "no such action: " + action);
      }
    } catch (UnknownBackendException e) {
      throw unknown(id);
    }
    send(ex, 200, view(member(id)));
  }

  private Member member(String id) {
    Member m = group.snapshot().member(id);
    if (m == null) {
      throw unknown(id);
    }
    return m;
  }

  private static Failure unknown(String id) {
    return new Failure(404, "id", "id: " + id + " is not a backend");
  }

  private static void allow(
      HttpExchange ex, String method, List<String> parts, int size, String allowed) {
    if (parts.size() != size) {
      throw new Failure(404, null, "no such endpoint: " + ex.getRequestURI().getPath());
    }
    if (!method.equals(allowed)) {
      throw methodNotAllowed(ex, allowed);
    }
  }

  private static Failure methodNotAllowed(HttpExchange ex, String allowed) {
    ex.getResponseHeaders().set("Allow", allowed);
    return new Failure(
        405, null, ex.getRequestMethod() + " not allowed here (expected: " + allowed + ")");
  }

  private static ObjectNode view(Member m) {
    Backend b = m.backend();
    ObjectNode o = JSON.createObjectNode();
    o.put("id", b.id());
    String scheme = "wss".equals(b.metadata().get("scheme")) ? "wss://" : "ws://";
    o.put("uri", scheme + hostForUri(b.host()) + ":" + b.port());
    o.put("weight", b.weight());
    if (b.maxConnections().isPresent()) {
      o.put("maxConnections", b.maxConnections().getAsInt());
    } else {
      o.putNull("maxConnections");
    }
    o.put("state", m.state().name());
    o.put("adminState", m.adminState().name());
    o.put("healthy", m.isHealthy());
    o.put("ejected", m.isEjected());
    o.put("liveConnections", m.liveConnections());
    o.put("effectiveWeight", m.effectiveWeight());
    Instant deadline = m.drainDeadline();
    if (deadline == null) {
      o.putNull("drainDeadline");
    } else {
      o.put("drainDeadline", deadline.toString());
    }
    o.put("stateSince", m.stateSince().toString());
    return o;
  }

  private static String hostForUri(String host) {
    return host.indexOf(':') >= 0 ? "[" + host + "]" : host;
  }

  /** A backend from {@code {"id", "uri", "weight"?, "maxConnections"?}}. */
  static Backend parseBackend(JsonNode body) {
    String id = text(body, "id");
    String uri = text(body, "uri");
    if (id.indexOf(',') >= 0 || id.indexOf('=') >= 0) {
      throw new Failure(400, "id", "id: '" + id + "' (expected: no ',' or '=')");
    }
    if (uri.indexOf(',') >= 0) {
      throw new Failure(400, "uri", "uri: '" + uri + "' (expected: ws://HOST:PORT)");
    }
    Backend b;
    try {
      b = new Converters.BackendSpec().convert("id=" + id + ",uri=" + uri);
    } catch (TypeConversionException e) {
      String msg = String.valueOf(e.getMessage());
      throw new Failure(400, msg.startsWith("id") ? "id" : "uri", msg);
    }
    for (String field : List.of("weight", "maxConnections")) {
      JsonNode n = body.get(field);
      if (n == null || n.isNull()) {
        continue;
      }
      if (!n.isIntegralNumber() || !n.canConvertToInt()) {
        throw new Failure(400, field, field + ": " + n + " (expected: an integer)");
      }
      try {
        b =
            field.equals("weight")
                ? b.withWeight(n.intValue())
                : b.withMaxConnections(n.intValue());
      } catch (AffinityConfigurationException e) {
        throw new Failure(400, field, String.valueOf(e.getMessage()));
      }
    }
    body.fieldNames()
        .forEachRemaining(
            f -> {
              if (!List.of("id", "uri", "weight", "maxConnections").contains(f)) {
                throw new Failure(
                    400, f, f + ": unknown field (expected: id, uri, weight, maxConnections)");
              }
            });
    return b;
  }

  private static String text(JsonNode body, String field) {
    JsonNode n = body.get(field);
    if (n == null || !n.isTextual() || n.asText().isBlank()) {
      throw new Failure(
          400, field, field + ": " + (n == null ? "missing" : n.toString()) + " (expected: text)");
    }
    return n.asText().strip();
  }

  private static Duration duration(String field, JsonNode n) {
    if (!n.isTextual()) {
      throw new Failure(400, field, field + ": " + n + " (expected: a duration such as 10m)");
    }
    Duration d;
    try {
      d = new Converters.DurationSpec().convert(n.asText());
    } catch (RuntimeException e) {
      throw new Failure(400, field, field + ": " + e.getMessage());
    }
    return d;
  }

  private static JsonNode readJsonOrEmpty(HttpExchange ex) throws IOException {
    byte[] body = readBody(ex);
    if (body.length == 0) {
      return JSON.createObjectNode();
    }
    return parse(body);
  }

  private static JsonNode readJson(HttpExchange ex) throws IOException {
    byte[] body = readBody(ex);
    if (body.length == 0) {
      throw new Failure(400, "body", "body: empty (expected: a JSON object)");
    }
    return parse(body);
  }

  private static JsonNode parse(byte[] body) {
    JsonNode n;
    try {
      n = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new Failure(
          400,
          "body",
          "body: not JSON at line "
              + e.getLocation().getLineNr()
              + " column "
              + e.getLocation().getColumnNr()
              + " (expected: a JSON object)");
    } catch (IOException e) {
      throw new Failure(400, "body", "body: unreadable (expected: a JSON object)");
    }
    if (n == null || !n.isObject()) {
      throw new Failure(400, "body", "body: not a JSON object (expected: {...})");
    }
    return n;
  }

  private static byte[] readBody(HttpExchange ex) throws IOException {
    try (InputStream in = ex.getRequestBody()) {
      byte[] body = in.readNBytes(MAX_BODY + 1);
      if (body.length > MAX_BODY) {
        throw new Failure(413, "body", "body: over " + MAX_BODY + " bytes");
      }
      return body;
    }
  }

  private static void audit(String who, String action, String what) {
    AUDIT.log(System.Logger.Level.INFO, "admin who={0} action={1} {2}", who, action, what);
  }

  private static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
    sendText(ex, status, "application/json", JSON.writeValueAsString(body) + "\n");
  }

  private static void sendText(HttpExchange ex, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      ex.getResponseBody().write(bytes);
    }
  }

  @Override
  public String toString() {
    return "AdminServer(" + address() + ", tokens " + requireNonNull(tokens.names()) + ")";
  }
}

package dev.affinity.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.affinity.backend.BackendState;
import dev.affinity.testkit.EchoBackend;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API of a real proxy (Netty adapter) over real HTTP: every endpoint, each bad input, the
 * audit log and {@code /metrics}.
 */
class AdminApiTest {
  private static final String TOKEN = "0123456789abcdef0123456789abcdef";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir Path dir;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(WAIT).build();
  private final List<String> audit = new CopyOnWriteArrayList<>();
  private final Logger auditLogger = Logger.getLogger("dev.affinity.proxy.admin");
  private final Handler auditHandler =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          audit.add(new java.util.logging.SimpleFormatter().formatMessage(r));
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };
  private EchoBackend ws1;
  private EchoBackend ws2;
  private ProxyCommand.Running running;
  private URI admin;

  @BeforeEach
  void start() throws Exception {
    auditLogger.addHandler(auditHandler);
    ws1 = EchoBackend.start("ws-1");
    ws2 = EchoBackend.start("ws-2");
    Path tokens = dir.resolve("admin.tokens");
    Files.writeString(tokens, "# operators\nops:" + TOKEN + "\n");
    ProxyCommand c = new ProxyCommand(Map.<String, String>of()::get);
    StringWriter out = new StringWriter();
    PrintWriter w = new PrintWriter(out, true);
    AffinityProxy.commandLine(c, w, w)
        .parseArgs(
            "--listen", "127.0.0.1:0",
            "--backend", "id=ws-1,uri=ws://127.0.0.1:" + ws1.port(),
            "--admin", "127.0.0.1:0",
            "--admin-token-file", tokens.toString(),
            "--shutdown-timeout", "1s");
    running = c.start(w, w);
    assertThat(out.toString()).contains("admin API on http://127.0.0.1:").contains("tokens ops");
    admin = URI.create("http://127.0.0.1:" + running.adminAddress().getPort());
  }

  @AfterEach
  void stop() {
    auditLogger.removeHandler(auditHandler);
    running.close();
    ws1.close();
    ws2.close();
  }

  private HttpResponse<String> call(
      String method, String path, @Nullable String body, @Nullable String authorization)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(admin.resolve(path))
            .timeout(WAIT)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> call(String method, String path, @Nullable String body)
      throws Exception {
    return call(method, path, body, "Bearer " + TOKEN);
  }

  private static JsonNode json(HttpResponse<String> r) throws Exception {
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    return JSON.readTree(r.body());
  }

  private void assertError(HttpResponse<String> r, int status, @Nullable String field)
      throws Exception {
    assertThat(r.statusCode()).as("%s", r.body()).isEqualTo(status);
    JsonNode e = json(r);
    assertThat(e.get("error").asText()).isNotBlank();
    if (field != null) {
      assertThat(e.get("field").asText()).isEqualTo(field);
    }
  }

  private static final List<String[]> ENDPOINTS =
      List.of(
          new String[] {"GET", "/backends"},
          new String[] {"GET", "/backends/ws-1"},
          new String[] {"POST", "/backends"},
          new String[] {"DELETE", "/backends/ws-1"},
          new String[] {"POST", "/backends/ws-1/drain"},
          new String[] {"POST", "/backends/ws-1/down"},
          new String[] {"POST", "/backends/ws-1/up"},
          new String[] {"POST", "/backends/ws-1/weight"},
          new String[] {"GET", "/membership"},
          new String[] {"POST", "/reload"},
          new String[] {"GET", "/metrics"},
          new String[] {"GET", "/nothing-here"});

  @Test
  void everyEndpoint_withoutToken_is401AndChangesNothing() throws Exception {
    long version = running.group().snapshot().version();
    for (String[] e : ENDPOINTS) {
      HttpResponse<String> r = call(e[0], e[1], "{}", null);
      assertError(r, 401, null);
      assertThat(r.headers().firstValue("WWW-Authenticate"))
          .hasValueSatisfying(v -> v.startsWith("Bearer"));
    }
    assertThat(running.group().snapshot().version()).isEqualTo(version);
  }

  @Test
  void everyEndpoint_withWrongTokenOrScheme_is401() throws Exception {
    for (String[] e : ENDPOINTS) {
      assertError(call(e[0], e[1], "{}", "Bearer " + TOKEN + "x"), 401, null);
      assertError(call(e[0], e[1], "{}", "Basic b3BzOnNlY3JldA=="), 401, null);
    }
    assertThat(running.group().snapshot().member("ws-1").state()).isEqualTo(BackendState.UP);
  }

  @Test
  void listBackends_showsStateWeightConnectionsHealthAndDeadline() throws Exception {
    HttpResponse<String> r = call("GET", "/backends", null);
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode b = json(r).get("backends").get(0);
    assertThat(b.get("id").asText()).isEqualTo("ws-1");
    assertThat(b.get("uri").asText()).isEqualTo("ws://127.0.0.1:" + ws1.port());
    assertThat(b.get("state").asText()).isEqualTo("UP");
    assertThat(b.get("weight").asInt()).isEqualTo(1);
    assertThat(b.get("liveConnections").asInt()).isZero();
    assertThat(b.get("healthy").asBoolean()).isTrue();
    assertThat(b.get("drainDeadline").isNull()).isTrue();

    JsonNode one = json(call("GET", "/backends/ws-1", null));
    assertThat(one).isEqualTo(b);
  }

  @Test
  void drain_withDeadline_thenDownAndUp_areApplied_andAudited() throws Exception {
    JsonNode drained = json(call("POST", "/backends/ws-1/drain", "{\"deadline\":\"10m\"}"));
    assertThat(drained.get("state").asText()).isEqualTo("DRAINING");
    assertThat(drained.get("drainDeadline").isTextual()).isTrue();
    assertThat(running.group().snapshot().member("ws-1").drainDeadline()).isNotNull();

    assertThat(json(call("POST", "/backends/ws-1/down", null)).get("state").asText())
        .isEqualTo("DOWN");
    assertThat(running.group().snapshot().member("ws-1").state()).isEqualTo(BackendState.DOWN);
    assertThat(json(call("POST", "/backends/ws-1/up", null)).get("state").asText()).isEqualTo("UP");
    JsonNode noDeadline = json(call("POST", "/backends/ws-1/drain", null));
    assertThat(noDeadline.get("state").asText()).isEqualTo("DRAINING");
    assertThat(noDeadline.get("drainDeadline").isNull()).isTrue();

    assertThat(audit)
        .containsSubsequence(
            "admin who=ops action=drain ws-1 deadline=PT10M",
            "admin who=ops action=down ws-1",
            "admin who=ops action=up ws-1",
            "admin who=ops action=drain ws-1 deadline=none");
    assertThat(String.join("\n", audit)).doesNotContain(TOKEN);
  }

  @Test
  void drain_badDeadline_is400NamingDeadline() throws Exception {
    assertError(call("POST", "/backends/ws-1/drain", "{\"deadline\":\"soon\"}"), 400, "deadline");
    assertError(call("POST", "/backends/ws-1/drain", "{\"deadline\":5}"), 400, "deadline");
    assertThat(running.group().snapshot().member("ws-1").state()).isEqualTo(BackendState.UP);
  }

  @Test
  void weight_isSet_andBadValuesAre400NamingWeight() throws Exception {
    JsonNode r = json(call("POST", "/backends/ws-1/weight", "{\"weight\":3}"));
    assertThat(r.get("weight").asInt()).isEqualTo(3);
    assertThat(running.group().snapshot().member("ws-1").backend().weight()).isEqualTo(3);
    assertThat(audit).contains("admin who=ops action=weight ws-1 weight=3");

    assertError(call("POST", "/backends/ws-1/weight", "{\"weight\":0}"), 400, "weight");
    assertError(call("POST", "/backends/ws-1/weight", "{\"weight\":\"2\"}"), 400, "weight");
    assertError(call("POST", "/backends/ws-1/weight", "{\"weight\":1.5}"), 400, "weight");
    assertError(call("POST", "/backends/ws-1/weight", "{}"), 400, "weight");
    assertError(call("POST", "/backends/ws-1/weight", "{\"weight\":"), 400, "body");
    assertError(call("POST", "/backends/ws-1/weight", null), 400, "body");
    assertThat(running.group().snapshot().member("ws-1").backend().weight()).isEqualTo(3);
  }

  @Test
  void addAndRemove_changeTheGroup_andTheMembershipVersion() throws Exception {
    JsonNode before = json(call("GET", "/membership", null));
    HttpResponse<String> added =
        call(
            "POST",
            "/backends",
            "{\"id\":\"ws-2\",\"uri\":\"ws://127.0.0.1:" + ws2.port() + "\",\"weight\":2}");
    assertThat(added.statusCode()).isEqualTo(201);
    assertThat(json(added).get("weight").asInt()).isEqualTo(2);
    assertThat(running.group().snapshot().member("ws-2")).isNotNull();

    JsonNode after = json(call("GET", "/membership", null));
    assertThat(after.get("version").asLong()).isGreaterThan(before.get("version").asLong());
    assertThat(after.get("fingerprint").asText())
        .isEqualTo(running.group().snapshot().fingerprint())
        .isNotEqualTo(before.get("fingerprint").asText());
    assertThat(after.get("backends").asInt()).isEqualTo(2);

    HttpResponse<String> removed = call("DELETE", "/backends/ws-2", null);
    assertThat(removed.statusCode()).isEqualTo(200);
    assertThat(running.group().snapshot().member("ws-2")).isNull();
    assertThat(audit)
        .anyMatch(l -> l.startsWith("admin who=ops action=add Backend.of(\"ws-2\""))
        .contains("admin who=ops action=remove ws-2");
  }

  @Test
  void add_badInput_is4xxNamingTheField() throws Exception {
    assertError(call("POST", "/backends", "{\"id\":\"x\""), 400, "body");
    assertError(call("POST", "/backends", "[1]"), 400, "body");
    assertError(call("POST", "/backends", "{\"uri\":\"ws://127.0.0.1:1\"}"), 400, "id");
    assertError(call("POST", "/backends", "{\"id\":\"x\"}"), 400, "uri");
    assertError(call("POST", "/backends", "{\"id\":\"x\",\"uri\":\"ws://h\"}"), 400, "uri");
    assertError(call("POST", "/backends", "{\"id\":\"x\",\"uri\":\"http://h:1\"}"), 400, "uri");
    assertError(
        call("POST", "/backends", "{\"id\":\"x\",\"uri\":\"ws://h:1\",\"weight\":-1}"),
        400,
        "weight");
    assertError(
        call("POST", "/backends", "{\"id\":\"x\",\"uri\":\"ws://h:1\",\"wieght\":2}"),
        400,
        "wieght");
    assertError(
        call("POST", "/backends", "{\"id\":\"ws-1\",\"uri\":\"ws://127.0.0.1:1\"}"), 409, "id");
    assertThat(running.group().snapshot().size()).isEqualTo(1);
  }

  @Test
  void unknownId_is404_onEveryBackendEndpoint() throws Exception {
    assertError(call("GET", "/backends/nope", null), 404, "id");
    assertError(call("DELETE", "/backends/nope", null), 404, "id");
    assertError(call("POST", "/backends/nope/drain", null), 404, "id");
    assertError(call("POST", "/backends/nope/down", null), 404, "id");
    assertError(call("POST", "/backends/nope/up", null), 404, "id");
    assertError(call("POST", "/backends/nope/weight", "{\"weight\":2}"), 404, "id");
  }

  @Test
  void wrongMethodOrPath_is405Or404() throws Exception {
    HttpResponse<String> r = call("PUT", "/backends/ws-1", "{}");
    assertError(r, 405, null);
    assertThat(r.headers().firstValue("Allow")).hasValue("GET, DELETE");
    assertError(call("GET", "/backends/ws-1/down", null), 405, null);
    assertError(call("POST", "/metrics", null), 405, null);
    assertError(call("POST", "/backends/ws-1/explode", null), 404, null);
    assertError(call("GET", "/", null), 404, null);
    assertError(call("POST", "/reload", null), 404, null); // no --config
  }

  @Test
  void metrics_parseAsPrometheusText_andCountAHandshake() throws Exception {
    double before = decisions(scrape());
    WebSocket ws =
        http.newWebSocketBuilder()
            .buildAsync(
                URI.create("ws://127.0.0.1:" + running.proxyAddress().getPort() + "/"),
                new WebSocket.Listener() {})
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    try {
      String text = scrape();
      assertThat(decisions(text)).isEqualTo(before + 1);
      assertThat(text).contains("jvm_memory_used_bytes", "affinity_connections_live");
    } finally {
      ws.abort();
    }
  }

  private String scrape() throws Exception {
    HttpResponse<String> r = call("GET", "/metrics", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> t.startsWith("text/plain"));
    PrometheusText.parse(r.body()); // throws on any line that is not the text format
    return r.body();
  }

  private static double decisions(String text) {
    return PrometheusText.parse(text).stream()
        .filter(s -> s.name().equals("affinity_decisions_total"))
        .mapToDouble(PrometheusText.Sample::value)
        .sum();
  }
}

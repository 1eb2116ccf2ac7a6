package dev.affinity.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The demo's backends and page, talked to directly with the JDK's HTTP and WebSocket clients. */
class DemoTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(WAIT).build();
  private Demo demo;
  private BackendGroup group;
  private DemoPage page;

  @BeforeEach
  void start() {
    demo = Demo.startBackends("AFFINITY");
    group = BackendGroup.of(demo.backends());
    page =
        demo.startPage(
            new InetSocketAddress("127.0.0.1", 0), group, "ws://127.0.0.1:1/demo", "netty");
  }

  @AfterEach
  void stop() {
    demo.close();
  }

  private static final class Inbox implements WebSocket.Listener {
    final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final StringBuilder part = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      part.append(data);
      if (last) {
        messages.add(part.toString());
        part.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
      closed.complete(status);
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      closed.complete(-1);
    }

    JsonNode next() throws Exception {
      String m = messages.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(m).as("a message within %s", WAIT).isNotNull();
      return JSON.readTree(m);
    }
  }

  private WebSocket connect(Backend b, Inbox inbox, String cookie) throws Exception {
    WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(WAIT);
    if (cookie != null) {
      builder.header("Cookie", cookie);
    }
    return builder
        .buildAsync(URI.create("ws://127.0.0.1:" + b.port() + "/demo"), inbox)
        .get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  @Test
  void backend_greetsWithItsIdAndTheCookieFingerprint_thenEchoes() throws Exception {
    Backend ws2 = demo.backends().get(1);
    Inbox inbox = new Inbox();
    WebSocket ws = connect(ws2, inbox, "theme=dark; AFFINITY=abc.def");
    JsonNode hello = inbox.next();
    assertThat(hello.get("type").asText()).isEqualTo("hello");
    assertThat(hello.get("backend").asText()).isEqualTo("ws-2");
    assertThat(hello.get("cookie").asText()).isEqualTo(CookieFingerprint.of("abc.def")).hasSize(8);
    ws.sendText("{\"ping\":1}", true).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(inbox.next().get("ping").asInt()).isEqualTo(1);
    ws.abort();
  }

  @Test
  void backend_withoutTheCookie_greetsWithNull() throws Exception {
    Inbox inbox = new Inbox();
    WebSocket ws = connect(demo.backends().get(0), inbox, "other=1");
    JsonNode hello = inbox.next();
    assertThat(hello.get("backend").asText()).isEqualTo("ws-1");
    assertThat(hello.get("cookie").isNull()).isTrue();
    ws.abort();
  }

  private HttpResponse<String> request(String method, String path, String origin) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(page.url() + path.substring(1)))
            .timeout(WAIT)
            .method(method, HttpRequest.BodyPublishers.noBody());
    if (origin != null) {
      b.header("Origin", origin);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void page_servesTheHtmlAndTheState() throws Exception {
    HttpResponse<String> html = request("GET", "/", null);
    assertThat(html.statusCode()).isEqualTo(200);
    assertThat(html.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
    assertThat(html.body()).contains("id=\"reconnect\"").contains("/api/state");

    JsonNode state = JSON.readTree(request("GET", "/api/state", null).body());
    assertThat(state.get("proxy").asText()).isEqualTo("ws://127.0.0.1:1/demo");
    assertThat(state.get("cookieName").asText()).isEqualTo("AFFINITY");
    assertThat(state.get("cookie").isNull()).isTrue();
    assertThat(state.get("backends")).hasSize(3);
    for (JsonNode b : state.get("backends")) {
      assertThat(b.get("running").asBoolean()).isTrue();
      assertThat(b.get("state").asText()).isEqualTo("UP");
    }
  }

  @Test
  void state_reportsOnlyTheFingerprintOfTheBrowsersCookie() throws Exception {
    HttpRequest r =
        HttpRequest.newBuilder(URI.create(page.url() + "api/state"))
            .header("Cookie", "AFFINITY=secret-value")
            .timeout(WAIT)
            .build();
    String body = http.send(r, HttpResponse.BodyHandlers.ofString()).body();
    assertThat(JSON.readTree(body).get("cookie").asText())
        .isEqualTo(CookieFingerprint.of("secret-value"));
    assertThat(body).doesNotContain("secret-value");
  }

  @Test
  void stop_marksTheBackendDownAndClosesItsConnections_start_bringsItBackOnTheSamePort()
      throws Exception {
    Backend ws1 = demo.backends().get(0);
    Inbox inbox = new Inbox();
    connect(ws1, inbox, null);
    inbox.next();

    HttpResponse<String> stopped =
        request("POST", "/api/backends/ws-1/stop", page.url().replaceAll("/$", ""));
    assertThat(stopped.statusCode()).isEqualTo(200);
    assertThat(group.snapshot().member("ws-1").state()).isEqualTo(BackendState.DOWN);
    assertThat(inbox.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isNotNull();
    JsonNode view = JSON.readTree(stopped.body()).get("backends").get(0);
    assertThat(view.get("running").asBoolean()).isFalse();
    assertThat(view.get("state").asText()).isEqualTo("DOWN");

    assertThat(request("POST", "/api/backends/ws-1/start", null).statusCode()).isEqualTo(200);
    assertThat(group.snapshot().member("ws-1").state()).isEqualTo(BackendState.UP);
    assertThat(demo.backends().get(0).port()).isEqualTo(ws1.port());
    Inbox again = new Inbox();
    WebSocket ws = connect(ws1, again, null);
    assertThat(again.next().get("backend").asText()).isEqualTo("ws-1");
    ws.abort();
  }

  @Test
  void control_refusesOtherOriginsWrongHostsGetsAndUnknownBackends() throws Exception {
    assertThat(request("POST", "/api/backends/ws-1/stop", "http://evil.example").statusCode())
        .isEqualTo(403);
    assertThat(request("GET", "/api/backends/ws-1/stop", null).statusCode()).isEqualTo(405);
    assertThat(request("POST", "/api/backends/ws-9/stop", null).statusCode()).isEqualTo(404);
    assertThat(request("GET", "/nope", null).statusCode()).isEqualTo(404);
    assertThat(group.snapshot().member("ws-1").state()).isEqualTo(BackendState.UP);
  }

  @Test
  void control_fromThePageOpenedAsLocalhost_isAccepted() throws Exception {
    // The page opened as http://localhost:PORT/ sends that origin with Host localhost:PORT.
    int port = page.address().getPort();
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout((int) WAIT.toMillis());
      s.getOutputStream()
          .write(
              ("POST /api/backends/ws-1/stop HTTP/1.1\r\nHost: localhost:"
                      + port
                      + "\r\nOrigin: http://localhost:"
                      + port
                      + "\r\nContent-Length: 0\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      String status =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
              .readLine();
      assertThat(status).startsWith("HTTP/1.1 200");
    }
    assertThat(group.snapshot().member("ws-1").state()).isEqualTo(BackendState.DOWN);
  }

  @Test
  void favicon_isNoContent_notA404() throws Exception {
    HttpResponse<String> r = request("GET", "/favicon.ico", null);
    assertThat(r.statusCode()).isEqualTo(204);
    assertThat(request("GET", "/", null).body()).contains("<link rel=\"icon\" href=\"data:,\">");
  }

  @Test
  void page_answersOnlyItsOwnHost() throws Exception {
    // A DNS name rebound to 127.0.0.1 arrives with a foreign Host header.
    try (Socket s = new Socket("127.0.0.1", page.address().getPort())) {
      s.setSoTimeout((int) WAIT.toMillis());
      s.getOutputStream()
          .write(
              "POST /api/backends/ws-1/stop HTTP/1.1\r\nHost: rebound.example:80\r\nContent-Length: 0\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      String status =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
              .readLine();
      assertThat(status).startsWith("HTTP/1.1 421");
    }
    assertThat(group.snapshot().member("ws-1").state()).isEqualTo(BackendState.UP);
  }

  @Test
  void page_refusesNonLoopbackAddresses() {
    assertThatThrownBy(
            () -> demo.startPage(new InetSocketAddress("0.0.0.0", 0), group, "ws://x:1/", "netty"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("loopback");
  }
}

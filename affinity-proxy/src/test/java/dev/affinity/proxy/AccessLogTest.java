package dev.affinity.proxy;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.backend.Backend;
import dev.affinity.client.ClientAddressResolver;
import dev.affinity.testkit.Await;
import dev.affinity.testkit.EchoBackend;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The access log of real handshakes on both adapters, and the connect-failure warnings. */
class AccessLogTest {
  private final List<String> lines = new CopyOnWriteArrayList<>();
  // The access logger (dev.affinity.proxy.access) hands its records to this parent.
  private final Logger proxyLog = Logger.getLogger("dev.affinity.proxy");
  private final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          lines.add(r.getLevel() + " " + new java.util.logging.SimpleFormatter().formatMessage(r));
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  @BeforeEach
  void capture() {
    proxyLog.addHandler(capture);
  }

  @AfterEach
  void release() {
    proxyLog.removeHandler(capture);
  }

  @ParameterizedTest
  @ValueSource(strings = {"netty", "jetty"})
  void handshake_logsOneLogfmtLine_withoutTheCookieValue(String server) throws Exception {
    try (EchoBackend ws1 = EchoBackend.start("ws-1")) {
      ProxyCommand c = new ProxyCommand(Map.<String, String>of()::get);
      StringWriter out = new StringWriter();
      PrintWriter w = new PrintWriter(out, true);
      AffinityProxy.commandLine(c, w, w)
          .parseArgs(
              "--listen",
              "127.0.0.1:0",
              "--server",
              server,
              "--backend",
              "id=ws-1,uri=ws://127.0.0.1:" + ws1.port(),
              "--shutdown-timeout",
              "1s");
      try (ProxyCommand.Running running = c.start(w, w)) {
        CompletableFuture<Integer> closedWith = new CompletableFuture<>();
        WebSocket ws =
            HttpClient.newHttpClient()
                .newWebSocketBuilder()
                .header("Cookie", "AFFINITY=not-a-valid-cookie-value")
                .buildAsync(
                    URI.create("ws://127.0.0.1:" + running.proxyAddress().getPort() + "/chat?x=1"),
                    new WebSocket.Listener() {
                      @Override
                      public @Nullable CompletionStage<?> onClose(
                          WebSocket webSocket, int statusCode, String reason) {
                        closedWith.complete(statusCode);
                        return null;
                      }
                    })
                .get(10, TimeUnit.SECONDS);
        ws.sendText("hello", true).get(10, TimeUnit.SECONDS);
        ws.sendClose(4001, "bye").get(10, TimeUnit.SECONDS);
        assertThat(closedWith.get(10, TimeUnit.SECONDS)).isEqualTo(4001); // the backend's echo
        String close = awaitLine("event=close");
        // Masked client frames: "hello" (2 + 4 + 5 bytes) and the close 4001 "bye" (2 + 4 + 5).
        assertThat(close)
            .startsWith("INFO time=")
            .contains(" client=127.0.0.1 path=/chat backend=ws-1 duration_ms=")
            .contains(" bytes_in=22 ")
            .containsPattern(" bytes_out=\\d+ close_code=4001$");
        // The backend's "backend:ws-1" (2 + 12) and the echo of "hello" (2 + 5) at least.
        assertThat(Long.parseLong(close.replaceAll(".* bytes_out=(\\d+) .*", "$1")))
            .isGreaterThanOrEqualTo(21);
      }
    }
    List<String> handshakes = lines.stream().filter(l -> l.contains("event=handshake")).toList();
    assertThat(handshakes).hasSize(1);
    assertThat(handshakes.get(0))
        .startsWith("INFO time=")
        .contains(" client=127.0.0.1 method=GET path=/chat ")
        .containsPattern(
            " strategy=\\S+ outcome=[A-Z_]+ backend=ws-1 status=101 ms=\\d+\\.\\d reason=")
        .doesNotContain("not-a-valid-cookie-value");
    assertThat(lines).noneMatch(l -> l.contains("not-a-valid-cookie-value"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"netty", "jetty"})
  void refusedHandshake_logsTheRealStatus_andNoCloseLine(String server) throws Exception {
    // Nothing listens on the backend's port: the client gets 502, and the line says so.
    try (dev.affinity.testkit.DeadPort dead = dev.affinity.testkit.DeadPort.reserve()) {
      ProxyCommand c = new ProxyCommand(Map.<String, String>of()::get);
      StringWriter out = new StringWriter();
      PrintWriter w = new PrintWriter(out, true);
      AffinityProxy.commandLine(c, w, w)
          .parseArgs(
              "--listen",
              "127.0.0.1:0",
              "--server",
              server,
              "--backend",
              "id=ws-1,uri=ws://127.0.0.1:" + dead.port(),
              "--shutdown-timeout",
              "1s");
      try (ProxyCommand.Running running = c.start(w, w)) {
        CompletableFuture<WebSocket> ws =
            HttpClient.newHttpClient()
                .newWebSocketBuilder()
                .buildAsync(
                    URI.create("ws://127.0.0.1:" + running.proxyAddress().getPort() + "/x"),
                    new WebSocket.Listener() {});
        assertThatThrownBy(() -> ws.get(10, TimeUnit.SECONDS))
            .hasStackTraceContaining("status code 502");
        assertThat(awaitLine("event=handshake")).contains(" backend=ws-1 status=502 ms=");
      }
    }
    assertThat(lines).noneMatch(l -> l.contains("event=close"));
  }

  /** Waits for a line another thread logs (the adapters log on their I/O threads). */
  private String awaitLine(String marker) {
    AtomicReference<@Nullable String> found = new AtomicReference<>();
    Await.until(
        "a log line with " + marker,
        Duration.ofSeconds(10),
        () -> {
          for (String l : lines) {
            if (l.contains(marker)) {
              found.set(l);
              return true;
            }
          }
          return false;
        });
    return requireNonNull(found.get(), marker);
  }

  @Test
  void json_isOneObjectPerLine_withEscapedValues() {
    AccessLog log =
        new AccessLog(
            AccessLog.Format.JSON, ClientAddressResolver.direct(), Clock.systemUTC(), () -> 0L);
    log.handshakeAnswered(
        dev.affinity.Router.builder(
                dev.affinity.backend.BackendGroup.of(Backend.of("ws-1", "127.0.0.1", 1)))
            .build()
            .select(
                dev.affinity.RoutingRequest.builder()
                    .remoteAddress(new java.net.InetSocketAddress("127.0.0.1", 5000))
                    .method("GET")
                    .path("/a\"b")
                    .build()),
        101,
        Duration.ofNanos(1_250_000));
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0))
        .startsWith("INFO {\"time\":\"")
        .contains(
            "\"path\":\"/a\\\"b\"", "\"backend\":\"ws-1\"", "\"status\":\"101\"", "\"ms\":\"1.2\"")
        .endsWith("}");
  }

  @Test
  void connectFailures_warnOncePerBackendPerWindow_andCountTheRest() {
    AtomicLong nanos = new AtomicLong();
    AccessLog log =
        new AccessLog(
            AccessLog.Format.OFF, ClientAddressResolver.direct(), Clock.systemUTC(), nanos::get);
    Backend ws1 = Backend.of("ws-1", "10.0.0.1", 9000);
    Backend ws2 = Backend.of("ws-2", "10.0.0.2", 9000);
    ConnectException refused = new ConnectException("Connection refused");
    log.connectFailed(ws1, refused);
    nanos.addAndGet(Duration.ofSeconds(1).toNanos());
    log.connectFailed(ws1, refused);
    log.connectFailed(ws1, refused);
    log.connectFailed(ws2, refused);
    nanos.addAndGet(AccessLog.WARN_EVERY.toNanos());
    log.connectFailed(ws1, refused);
    assertThat(lines)
        .containsExactly(
            "WARNING backend ws-1 (10.0.0.1:9000) refused or timed out a connect:"
                + " ConnectException: Connection refused",
            "WARNING backend ws-2 (10.0.0.2:9000) refused or timed out a connect:"
                + " ConnectException: Connection refused",
            "WARNING backend ws-1 (10.0.0.1:9000) refused or timed out a connect:"
                + " ConnectException: Connection refused (2 more since the last warning)");
  }

  @Test
  void logLevel_setsTheRootLevel() {
    Level before = Logger.getLogger("").getLevel();
    try {
      ProxyCommand.LogLevel.WARN.apply();
      assertThat(Logger.getLogger("").getLevel()).isEqualTo(Level.WARNING);
      ProxyCommand.LogLevel.DEBUG.apply();
      assertThat(Logger.getLogger("").getLevel()).isEqualTo(Level.FINE);
    } finally {
      Logger.getLogger("").setLevel(before);
      for (Handler h : Logger.getLogger("").getHandlers()) {
        h.setLevel(before);
      }
    }
  }
}

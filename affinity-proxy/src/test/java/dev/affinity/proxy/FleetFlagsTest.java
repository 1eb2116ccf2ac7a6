package dev.affinity.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.redis.RedisFleet;
import dev.affinity.testkit.Await;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --redis} and {@code --backends-file} wire the proxy into a fleet (a real redis-server).
 */
class FleetFlagsTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();
  private LocalRedis redis;
  private String redisUri;

  @BeforeEach
  void startRedis(@TempDir Path dir) throws Exception {
    redis = LocalRedis.start(dir);
    redisUri = redis.uri();
  }

  @AfterEach
  void stopRedis() throws Exception {
    redis.close();
  }

  private static void await(String what, BooleanSupplier condition) {
    Await.until(what, Duration.ofSeconds(20), condition);
  }

  private ProxyCommand.Running start(String... args) {
    ProxyCommand command = new ProxyCommand(Map.<String, String>of()::get);
    AffinityProxy.commandLine(command, new PrintWriter(out, true), new PrintWriter(err, true))
        .parseArgs(args);
    return command.start(new PrintWriter(out, true), new PrintWriter(err, true));
  }

  @Test
  void redisAndBackendsFile_loadTheSharedStateAndTheFileBeforeListening(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("backends");
    Files.writeString(file, "ws-1 127.0.0.1:9001\nws-2 127.0.0.1:9002\n", UTF_8);
    // An operator (any other instance) drained ws-1 before this proxy started.
    BackendGroup operatorView = BackendGroup.of(List.of(Backend.of("ws-1", "127.0.0.1", 9001)));
    try (RedisFleet operator =
        RedisFleet.builder(operatorView)
            .redis(redisUri)
            .instanceId("operator")
            .heartbeat(Duration.ZERO)
            .build()) {
      operator.start();
      operator.drain("ws-1");

      try (ProxyCommand.Running proxy =
          start(
              "--listen", "127.0.0.1:0",
              "--redis", redisUri,
              "--instance-id", "proxy-a",
              "--backends-file", file.toString(),
              "--shutdown-timeout", "1s")) {
        BackendGroup group = proxy.group();
        assertThat(group.snapshot().member("ws-1").state()).isEqualTo(BackendState.DRAINING);
        assertThat(group.snapshot().member("ws-2").state()).isEqualTo(BackendState.UP);
        assertThat(out.toString())
            .contains("fleet instance proxy-a, shared state version 1")
            .contains("backends from BackendSource.file(");

        // A later change through another instance reaches the running proxy.
        operator.markDown("ws-1");
        await(
            "ws-1 down on the proxy",
            () -> group.snapshot().member("ws-1").state() == BackendState.DOWN);
        assertThat(group.snapshot().member("ws-2").state()).isEqualTo(BackendState.UP);
      }
    }
  }

  @Test
  void adminApiChanges_goThroughTheFleet_toEveryInstance_and503WhenRedisIsDown(@TempDir Path dir)
      throws Exception {
    Path tokens = dir.resolve("admin.tokens");
    Files.writeString(tokens, "ops:0123456789abcdef0123456789abcdef\n", UTF_8);
    String[] common = {
      "--listen", "127.0.0.1:0",
      "--redis", redisUri,
      "--backend", "id=ws-1,uri=ws://127.0.0.1:9001",
      "--backend", "id=ws-2,uri=ws://127.0.0.1:9002",
      "--admin", "127.0.0.1:0",
      "--admin-token-file", tokens.toString(),
      "--shutdown-timeout", "1s"
    };
    try (ProxyCommand.Running a = start(with(common, "--instance-id", "a"));
        ProxyCommand.Running b = start(with(common, "--instance-id", "b"))) {
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> drained =
          http.send(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://127.0.0.1:"
                              + a.adminAddress().getPort()
                              + "/backends/ws-2/drain"))
                  .header("Authorization", "Bearer 0123456789abcdef0123456789abcdef")
                  .POST(HttpRequest.BodyPublishers.ofString("{\"deadline\":\"5m\"}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(drained.statusCode()).as(drained.body()).isEqualTo(200);
      assertThat(a.group().snapshot().member("ws-2").state()).isEqualTo(BackendState.DRAINING);
      await(
          "the drain made through A's admin API reaches B",
          () -> b.group().snapshot().member("ws-2").state() == BackendState.DRAINING);
      assertThat(b.group().snapshot().member("ws-2").drainDeadline())
          .isEqualTo(a.group().snapshot().member("ws-2").drainDeadline());

      redis.kill();
      HttpResponse<String> down =
          http.send(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://127.0.0.1:" + a.adminAddress().getPort() + "/backends/ws-1/down"))
                  .header("Authorization", "Bearer 0123456789abcdef0123456789abcdef")
                  .POST(HttpRequest.BodyPublishers.noBody())
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(down.statusCode()).as(down.body()).isEqualTo(503);
      assertThat(down.body()).contains("fleet unavailable");
      assertThat(a.group().snapshot().member("ws-1").state())
          .as("nothing changed when the fleet could not be reached")
          .isEqualTo(BackendState.UP);
    }
  }

  @Test
  @SuppressWarnings("try") // each proxy is started for what it prints, then closed
  void redisPasswordFile_authenticates_andWithoutItTheProxyStartsFailStatic(@TempDir Path dir)
      throws Exception {
    int port = redis.port();
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.getOutputStream().write("CONFIG SET requirepass s3cret-pw\r\n".getBytes(UTF_8));
      assertThat(new String(s.getInputStream().readNBytes(5), UTF_8)).isEqualTo("+OK\r\n");
    }
    Path pw = dir.resolve("redis.password");
    Files.writeString(pw, "s3cret-pw\n", UTF_8);
    try (ProxyCommand.Running p =
        start(
            "--listen", "127.0.0.1:0",
            "--backend", "id=ws-1,uri=ws://127.0.0.1:9001",
            "--redis", redisUri,
            "--redis-password-file", pw.toString(),
            "--instance-id", "with-password",
            "--shutdown-timeout", "1s")) {
      assertThat(out.toString()).contains("fleet instance with-password, shared state version");
    }
    try (ProxyCommand.Running p =
        start(
            "--listen", "127.0.0.1:0",
            "--backend", "id=ws-1,uri=ws://127.0.0.1:9001",
            "--redis", redisUri,
            "--instance-id", "no-password",
            "--shutdown-timeout", "1s")) {
      assertThat(out.toString())
          .contains("fleet instance no-password, Redis unreachable")
          .doesNotContain("s3cret-pw");
    }
  }

  private static String[] with(String[] common, String... more) {
    String[] all = java.util.Arrays.copyOf(common, common.length + more.length);
    System.arraycopy(more, 0, all, common.length, more.length);
    return all;
  }

  @Test
  void backendDns_parsesNamePortAndInterval() {
    FleetOptions.DnsSpec d = new FleetOptions.DnsSpec.Converter().convert("chat.svc:8080,2s");
    assertThat(d.toString()).isEqualTo("chat.svc:8080,PT2S");
    assertThat(new FleetOptions.DnsSpec.Converter().convert("srv:_ws._tcp.chat.svc").toString())
        .isEqualTo("srv:_ws._tcp.chat.svc,PT5S");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new FleetOptions.DnsSpec.Converter().convert("chat.svc"))
        .hasMessageContaining("'chat.svc' (expected: NAME:PORT[,INTERVAL]");
  }
}

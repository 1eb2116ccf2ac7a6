package dev.affinity.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.Router;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.RoutingKey;
import dev.affinity.testkit.Await;
import dev.affinity.testkit.EchoBackend;
import dev.affinity.testkit.Handshake;
import dev.affinity.testkit.WsClient;
import dev.affinity.testkit.WsSession;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.ParameterException;

/**
 * {@code --learn} across a fleet: instances on both adapters sharing one real redis-server learn
 * the session cookie a backend sets in its 101, and a client that carries it is routed to that
 * backend through any instance, even where the {@code --strategy} hash would send it elsewhere.
 */
class FleetLearnTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private final StringWriter out = new StringWriter();

  private ProxyCommand.Running start(String... args) {
    ProxyCommand command = new ProxyCommand(Map.<String, String>of()::get);
    PrintWriter w = new PrintWriter(out, true);
    AffinityProxy.commandLine(command, w, w).parseArgs(args);
    return command.start(w, w);
  }

  @Test
  void valueLearnedThroughOneInstance_routesTheClientToItsBackend_throughTheOthers(
      @TempDir Path dir) throws Exception {
    Path key = dir.resolve("learn.key");
    Files.writeString(key, "0123456789abcdef-shared-learn-key\n", UTF_8);
    try (LocalRedis redis = LocalRedis.start(dir);
        EchoBackend ws1 =
            EchoBackend.builder("ws-1").on101("Set-Cookie", "SID=sess-ws-1; Path=/").start();
        EchoBackend ws2 =
            EchoBackend.builder("ws-2").on101("Set-Cookie", "SID=sess-ws-2; Path=/").start()) {
      String[] common = {
        "--listen",
        "127.0.0.1:0",
        "--redis",
        redis.uri(),
        "--backend",
        "id=ws-1,uri=ws://127.0.0.1:" + ws1.port(),
        "--backend",
        "id=ws-2,uri=ws://127.0.0.1:" + ws2.port(),
        "--strategy",
        "header:X-User",
        "--learn",
        "cookie:SID",
        "--learn-key-file",
        key.toString(),
        "--shutdown-timeout",
        "1s"
      };
      Router hashOnly =
          Router.builder(
                  BackendGroup.of(
                      Backend.of("ws-1", "127.0.0.1", ws1.port()),
                      Backend.of("ws-2", "127.0.0.1", ws2.port())))
              .strategy(AffinityStrategy.rendezvous(RoutingKey.header("X-User")))
              .build();
      try (ProxyCommand.Running a = start(with(common, "--instance-id", "a", "--server", "netty"));
          ProxyCommand.Running b = start(with(common, "--instance-id", "b", "--server", "jetty"));
          ProxyCommand.Running c = start(with(common, "--instance-id", "c", "--server", "netty"))) {
        assertThat(out.toString()).contains("strategies learned(cookie:SID) -> header:X-User");

        // Learned through A (Netty), used through B (Jetty) and C (Netty).
        checkLearnedAcross(hashOnly, a, b, c, "u-1");
        // Learned through B (Jetty), used through A and C (Netty).
        checkLearnedAcross(hashOnly, b, a, c, "u-2");
      }
    }
  }

  /**
   * A client placed by the hash through {@code learner} gets its session cookie from the backend;
   * other clients (each with an empty cookie jar) carrying that cookie through the other instances
   * reach the same backend, where the hash alone sends them elsewhere.
   */
  private static void checkLearnedAcross(
      Router hashOnly,
      ProxyCommand.Running learner,
      ProxyCommand.Running other1,
      ProxyCommand.Running other2,
      String user)
      throws Exception {
    try (WsClient browser = WsClient.jdk();
        WsSession first =
            browser.connect(
                Handshake.to(learner.proxyAddress().getPort(), "/").header("X-User", user))) {
      String issuer = first.nextText().substring("backend:".length());
      // The backend's Set-Cookie reached the client through the proxy, unchanged.
      assertThat(browser.cookie("SID")).isEqualTo("sess-" + issuer);
      String away = userHashedAwayFrom(hashOnly, issuer);
      for (ProxyCommand.Running other : new ProxyCommand.Running[] {other1, other2}) {
        int port = other.proxyAddress().getPort();
        // Without the cookie, this user goes elsewhere: the hash alone would not find the issuer.
        try (WsClient fresh = WsClient.jdk();
            WsSession plain = fresh.connect(Handshake.to(port, "/").header("X-User", away))) {
          assertThat(plain.nextText()).isNotEqualTo("backend:" + issuer);
        }
        // With it, the instance asks the fleet's store (the value is written asynchronously).
        Await.until(
            "a handshake carrying SID=sess-" + issuer + " through port " + port + " lands on it",
            WAIT,
            () -> landsOn(port, away, "SID=sess-" + issuer, issuer));
      }
    }
  }

  private static boolean landsOn(int port, String user, String cookie, String backend) {
    try (WsClient fresh = WsClient.jdk();
        WsSession ws =
            fresh.connect(
                Handshake.to(port, "/").header("X-User", user).header("Cookie", cookie))) {
      return ws.nextText().equals("backend:" + backend);
    }
  }

  /** A user id whose hash chooses a backend other than {@code backendId}. */
  private static String userHashedAwayFrom(Router hashOnly, String backendId) {
    for (int i = 0; i < 1_000; i++) {
      String user = "away-" + i;
      RoutingRequest r =
          RoutingRequest.builder()
              .remoteAddress("127.0.0.1", 40_000)
              .header("X-User", user)
              .build();
      if (!hashOnly.select(r).backend().id().equals(backendId)) {
        return user;
      }
    }
    throw new AssertionError("no user hashed away from " + backendId);
  }

  @Test
  void learnFlags_areCheckedTogether(@TempDir Path dir) throws Exception {
    Path shortKey = dir.resolve("short.key");
    Files.writeString(shortKey, "too-short\n", UTF_8);
    String[] base = {
      "--listen", "127.0.0.1:0", "--backend", "id=ws-1,uri=ws://127.0.0.1:9001",
    };
    assertThatThrownBy(() -> start(with(base, "--learn", "jsessionid")))
        .isInstanceOf(ParameterException.class)
        .hasMessageContaining("--learn: 'jsessionid' (expected: cookie:NAME or header:NAME)");
    assertThatThrownBy(() -> start(with(base, "--learn", "cookie:bad name")))
        .isInstanceOf(ParameterException.class)
        .hasMessageContaining("--learn: name: 'bad name'");
    assertThatThrownBy(
            () ->
                start(
                    with(
                        base,
                        "--learn",
                        "cookie:SID",
                        "--redis",
                        "redis://127.0.0.1:1",
                        "--instance-id",
                        "x")))
        .isInstanceOf(ParameterException.class)
        .hasMessageContaining("--learn with --redis: no --learn-key-file");
    assertThatThrownBy(
            () ->
                start(
                    with(
                        base, "--learn", "header:X-Room", "--learn-key-file", shortKey.toString())))
        .isInstanceOf(ParameterException.class)
        .hasMessageContaining("holds 9 bytes (expected: at least 16)");
    assertThatThrownBy(() -> start(with(base, "--learn-key-file", shortKey.toString())))
        .isInstanceOf(ParameterException.class)
        .hasMessageContaining("--learn-key-file without --learn");
  }

  private static String[] with(String[] common, String... more) {
    String[] all = java.util.Arrays.copyOf(common, common.length + more.length);
    System.arraycopy(more, 0, all, common.length, more.length);
    return all;
  }
}

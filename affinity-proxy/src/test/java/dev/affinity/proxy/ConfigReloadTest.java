package dev.affinity.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.testkit.EchoBackend;
import dev.affinity.testkit.Handshake;
import dev.affinity.testkit.WsClient;
import dev.affinity.testkit.WsMessage;
import dev.affinity.testkit.WsSession;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reloading the configuration file of a running proxy, through the same path SIGHUP and {@code POST
 * /reload} take: backends change through the group while tunnels stay open; a broken file is
 * refused whole and the proxy keeps serving.
 */
class ConfigReloadTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String TOKEN = "0123456789abcdef0123456789abcdef";
  private static final int TUNNELS = 100;

  @TempDir Path dir;

  private ProxyCommand command(Path config, String... extra) {
    ProxyCommand c = new ProxyCommand(Map.<String, String>of()::get);
    StringWriter sink = new StringWriter();
    PrintWriter w = new PrintWriter(sink, true);
    var cl = AffinityProxy.commandLine(c, w, w);
    List<String> args = new ArrayList<>(List.of("--config", config.toString()));
    args.addAll(List.of(extra));
    cl.parseArgs(AffinityProxy.withConfigFile(cl, c, args.toArray(new String[0])));
    return c;
  }

  private static String secret() {
    byte[] b = new byte[32];
    new java.security.SecureRandom().nextBytes(b);
    return java.util.Base64.getEncoder().encodeToString(b) + "\n";
  }

  /** The key id of an affinity cookie: byte 1 of its Base64url value. */
  private static int keyIdOf(@org.jspecify.annotations.Nullable String cookie) {
    assertThat(cookie).as("an affinity cookie").isNotNull();
    return java.util.Base64.getUrlDecoder().decode(cookie)[1] & 0xff;
  }

  private static String yaml(int... ports) {
    StringBuilder sb = new StringBuilder("listen: 127.0.0.1:0\nshutdown-timeout: 1s\nbackends:\n");
    for (int i = 0; i < ports.length; i++) {
      sb.append("  - {id: ws-")
          .append(i + 1)
          .append(", uri: \"ws://127.0.0.1:")
          .append(ports[i])
          .append("\"}\n");
    }
    return sb.toString();
  }

  @ParameterizedTest(name = "--server {0}")
  @ValueSource(strings = {"netty", "jetty"})
  void reload_addsABackend_andRotatesTheCookieKey_whileAHundredTunnelsStayOpen_withNoMessageLost(
      String server) throws Exception {
    Path config = dir.resolve("proxy.yaml");
    Path key1 = dir.resolve("cookie-1.key");
    Path key2 = dir.resolve("cookie-2.key");
    Files.writeString(key1, secret());
    Files.writeString(key2, secret());
    try (EchoBackend ws1 = EchoBackend.start("ws-1");
        EchoBackend ws2 = EchoBackend.start("ws-2");
        WsClient client = WsClient.jdk();
        WsClient later = WsClient.jdk()) {
      Files.writeString(config, yaml(ws1.port()) + "cookie-secret-file: " + key1 + "\n");
      ProxyCommand c = command(config, "--server", server);
      StringWriter out = new StringWriter();
      PrintWriter w = new PrintWriter(out, true);
      try (ProxyCommand.Running running = c.start(w, w)) {
        int port = running.proxyAddress().getPort();
        List<WsSession> tunnels = new ArrayList<>();
        try {
          for (int i = 0; i < TUNNELS; i++) {
            WsSession s = client.connect(Handshake.to(port, "/t" + i));
            tunnels.add(s);
            assertThat(s.next(WAIT).text()).isEqualTo("backend:ws-1");
          }

          assertThat(keyIdOf(client.cookie("AFFINITY"))).isEqualTo(1);

          // The key rotation of docs/deploy.md: a new secret under a new id, the old one still
          // accepted, and a backend more, in one reload.
          Files.writeString(
              config,
              yaml(ws1.port(), ws2.port())
                  + "cookie-secret-file: "
                  + key2
                  + "\ncookie-key-id: 2\ncookie-old-secret-file: \"1="
                  + key1
                  + "\"\n");
          assertThat(c.reload(running.group()))
              .isEqualTo("backends +1 -0 ~0 (2); cookie and JWT keys re-read");
          assertThat(running.group().snapshot().member("ws-2")).isNotNull();

          // A new client gets a cookie signed under the new key id.
          try (WsSession fresh = later.connect(Handshake.to(port, "/new"))) {
            assertThat(fresh.next(WAIT).text()).startsWith("backend:");
          }
          assertThat(keyIdOf(later.cookie("AFFINITY"))).isEqualTo(2);

          // Every tunnel opened before the reload still carries messages both ways.
          for (int i = 0; i < TUNNELS; i++) {
            tunnels.get(i).sendText("after-reload-" + i);
          }
          for (int i = 0; i < TUNNELS; i++) {
            WsMessage m = tunnels.get(i).next(WAIT);
            assertThat(m.text()).as("tunnel %d", i).isEqualTo("after-reload-" + i);
            assertThat(tunnels.get(i).isOpen()).isTrue();
          }
          assertThat(running.group().liveConnections("ws-1")).isEqualTo(TUNNELS);
        } finally {
          for (WsSession s : tunnels) {
            s.close();
          }
        }
      }
    }
  }

  private static String token(String secret) {
    return com.auth0
        .jwt
        .JWT
        .create()
        .withSubject("alice")
        .withExpiresAt(java.time.Instant.now().plusSeconds(600))
        .sign(
            com.auth0.jwt.algorithms.Algorithm.HMAC256(
                java.util.Base64.getDecoder().decode(secret.trim())));
  }

  private static int handshakeStatus(WsClient client, int port, String token) {
    try (WsSession s = client.connect(Handshake.to(port, "/?token=" + token))) {
      assertThat(s.next(WAIT).text()).isEqualTo("backend:ws-1");
      return 101;
    } catch (dev.affinity.testkit.HandshakeFailedException e) {
      return e.status();
    }
  }

  @ParameterizedTest(name = "--server {0}")
  @ValueSource(strings = {"netty", "jetty"})
  void reload_rotatesTheJwtKey_forTheNextHandshakes(String server) throws Exception {
    Path config = dir.resolve("proxy.yaml");
    Path key = dir.resolve("jwt.key");
    String first = secret();
    String second = secret();
    Files.writeString(key, first);
    try (EchoBackend ws1 = EchoBackend.start("ws-1");
        WsClient client = WsClient.jdk()) {
      Files.writeString(
          config,
          yaml(ws1.port())
              + "strategy: [jwt, source-ip]\njwt-algorithm: hs256\njwt-key-file: "
              + key
              + "\njwt-from: query:token\n");
      ProxyCommand c = command(config, "--server", server);
      StringWriter out = new StringWriter();
      PrintWriter w = new PrintWriter(out, true);
      try (ProxyCommand.Running running = c.start(w, w)) {
        int port = running.proxyAddress().getPort();
        try (WsSession open = client.connect(Handshake.to(port, "/?token=" + token(first)))) {
          assertThat(open.next(WAIT).text()).isEqualTo("backend:ws-1");
          assertThat(handshakeStatus(client, port, token(second))).isEqualTo(401);

          Files.writeString(key, second); // the issuer rotated its key
          assertThat(c.reload(running.group()))
              .isEqualTo("backends +0 -0 ~0 (1); cookie and JWT keys re-read");

          assertThat(handshakeStatus(client, port, token(second))).isEqualTo(101);
          assertThat(handshakeStatus(client, port, token(first))).isEqualTo(401);
          open.sendText("still open");
          assertThat(open.next(WAIT).text()).isEqualTo("still open");
        }
      }
    }
  }

  @Test
  void brokenFile_isRefusedWhole_andTheProxyKeepsServing() throws Exception {
    Path config = dir.resolve("proxy.yaml");
    try (EchoBackend ws1 = EchoBackend.start("ws-1");
        EchoBackend ws2 = EchoBackend.start("ws-2");
        WsClient client = WsClient.jdk()) {
      Files.writeString(config, yaml(ws1.port()));
      ProxyCommand c = command(config);
      StringWriter out = new StringWriter();
      PrintWriter w = new PrintWriter(out, true);
      try (ProxyCommand.Running running = c.start(w, w)) {
        long version = running.group().snapshot().version();
        // A good backend next to a bad one: nothing of it applies.
        Files.writeString(
            config, yaml(ws1.port(), ws2.port()) + "  - {id: ws-3, uri: \"ws://127.0.0.1\"}\n");
        assertThatThrownBy(() -> c.reload(running.group()))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("--backend")
            .hasMessageContaining("port");
        Files.writeString(config, "backends: [\n");
        assertThatThrownBy(() -> c.reload(running.group())).hasMessageContaining("not valid YAML");
        assertThat(running.group().snapshot().version()).isEqualTo(version);
        assertThat(running.group().snapshot().member("ws-2")).isNull();

        try (WsSession s = client.connect(Handshake.to(running.proxyAddress().getPort(), "/"))) {
          assertThat(s.next(WAIT).text()).isEqualTo("backend:ws-1");
        }
      }
    }
  }

  @Test
  void adminReload_appliesTheFile_andAuditsIt() throws Exception {
    Path config = dir.resolve("proxy.yaml");
    Path tokens = dir.resolve("admin.tokens");
    Files.writeString(tokens, "deployer:" + TOKEN + "\n");
    try (EchoBackend ws1 = EchoBackend.start("ws-1");
        EchoBackend ws2 = EchoBackend.start("ws-2")) {
      Files.writeString(config, yaml(ws1.port(), ws2.port()));
      ProxyCommand c =
          command(config, "--admin", "127.0.0.1:0", "--admin-token-file", tokens.toString());
      StringWriter out = new StringWriter();
      PrintWriter w = new PrintWriter(out, true);
      try (ProxyCommand.Running running = c.start(w, w)) {
        Files.writeString(
            config,
            "listen: 127.0.0.1:0\nbackends:\n  - {id: ws-2, uri: \"ws://127.0.0.1:"
                + ws2.port()
                + "\", weight: 3}\n");
        HttpClient http = HttpClient.newHttpClient();
        URI reload = URI.create("http://127.0.0.1:" + running.adminAddress().getPort() + "/reload");
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(reload)
                    .header("Authorization", "Bearer " + TOKEN)
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("backends +0 -1 ~1 (1)");

        Files.writeString(config, "listen: [\n");
        HttpResponse<String> bad =
            http.send(
                HttpRequest.newBuilder(reload)
                    .header("Authorization", "Bearer " + TOKEN)
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(bad.statusCode()).isEqualTo(422);
        assertThat(bad.body()).contains("\"field\":\"config\"").contains("not valid YAML");
        assertThat(running.group().snapshot().members()).hasSize(1);
      }
    }
  }
}

package dev.affinity.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.testkit.EchoBackend;
import dev.affinity.testkit.Handshake;
import dev.affinity.testkit.TestCertificates;
import dev.affinity.testkit.WsClient;
import dev.affinity.testkit.WsSession;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * The proxy's TLS flags on both adapters: {@code --tls-cert}/{@code --tls-key} for a {@code wss://}
 * listener, {@code uri=wss://…} backends verified against {@code --backend-ca}, and a renewed
 * certificate served after a reload (the path SIGHUP and {@code POST /reload} take) while a tunnel
 * stays open. Certificates are generated in the test ({@link TestCertificates}).
 */
class ProxyTlsTest {
  @TempDir Path dir;

  private static ProxyCommand command(String... args) {
    ProxyCommand c = new ProxyCommand(Map.<String, String>of()::get);
    StringWriter sink = new StringWriter();
    PrintWriter w = new PrintWriter(sink, true);
    CommandLine cl = AffinityProxy.commandLine(c, w, w);
    cl.parseArgs(AffinityProxy.withConfigFile(cl, c, args));
    return c;
  }

  @ParameterizedTest(name = "--server {0}")
  @ValueSource(strings = {"netty", "jetty"})
  void wssClient_toWssBackend_andARenewedCertificateAfterReload(String server) throws Exception {
    TestCertificates.Pem first = TestCertificates.generate(dir, "proxy-1");
    TestCertificates.Pem second = TestCertificates.generate(dir, "proxy-2");
    TestCertificates.Pem backend = TestCertificates.generate(dir, "backend");
    Path cert = dir.resolve("tls.crt");
    Path key = dir.resolve("tls.key");
    first.installAt(cert, key);
    SSLContext clientTrust = TestCertificates.trusting(first.x509(), second.x509());
    try (EchoBackend ws1 = EchoBackend.builder("ws-1").tls(backend.serverContext()).start();
        WsClient client = WsClient.jdk(clientTrust)) {
      Path config = dir.resolve("proxy.yaml");
      Files.writeString(
          config,
          "listen: 127.0.0.1:0\n"
              + "shutdown-timeout: 1s\n"
              + "server: "
              + server
              + "\n"
              + "tls-cert: "
              + cert
              + "\n"
              + "tls-key: "
              + key
              + "\n"
              + "backend-ca: "
              + backend.certificate()
              + "\n"
              + "backends:\n"
              + "  - {id: ws-1, uri: \"wss://127.0.0.1:"
              + ws1.port()
              + "\"}\n");
      ProxyCommand c = command("--config", config.toString());
      StringWriter out = new StringWriter();
      PrintWriter w = new PrintWriter(out, true);
      try (ProxyCommand.Running running = c.start(w, w)) {
        int port = running.proxyAddress().getPort();
        assertThat(out.toString())
            .contains("proxy listening on wss://127.0.0.1:" + port + "/")
            .contains("backend ws-1 wss://127.0.0.1:" + ws1.port());
        try (WsSession open = client.connect(Handshake.to(port, "/chat"))) {
          assertThat(open.nextText()).isEqualTo("backend:ws-1");
          assertThat(TestCertificates.handshake(port, clientTrust).certificate())
              .isEqualTo(first.x509());

          second.installAt(cert, key);
          // Whether the background check or this reload reads the renewal first, it is served
          // from the next handshake once reload returns.
          assertThat(c.reload(running.group()))
              .matches("backends \\+0 -0 ~0 \\(1\\); tls certificate (renewed|unchanged)");
          assertThat(TestCertificates.handshake(port, clientTrust).certificate())
              .isEqualTo(second.x509());

          open.sendText("across the renewal");
          assertThat(open.nextText()).isEqualTo("across the renewal");
        }
        assertThat(ws1.handshakes()).hasSize(1);
      }
    }
  }

  @Test
  void tlsFlags_badInput_namesTheFlagAndTheFile() throws Exception {
    TestCertificates.Pem pem = TestCertificates.generate(dir, "proxy");
    TestCertificates.Pem other = TestCertificates.generate(dir, "other");
    List<String> base =
        new ArrayList<>(
            List.of("--listen", "127.0.0.1:0", "--backend", "id=ws-1,uri=wss://127.0.0.1:9"));
    StringWriter out = new StringWriter();
    PrintWriter w = new PrintWriter(out, true);

    List<String> alone = new ArrayList<>(base);
    alone.addAll(List.of("--tls-cert", pem.certificate().toString()));
    assertThatThrownBy(() -> command(alone.toArray(new String[0])).start(w, w))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--tls-cert given alone");

    List<String> mismatched = new ArrayList<>(base);
    mismatched.addAll(
        List.of(
            "--tls-cert",
            pem.certificate().toString(),
            "--tls-key",
            other.privateKey().toString()));
    assertThatThrownBy(() -> command(mismatched.toArray(new String[0])).start(w, w))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining(other.privateKey().toString())
        .hasMessageContaining("does not belong")
        .hasMessageNotContaining("PRIVATE KEY-----");

    List<String> missingCa = new ArrayList<>(base);
    missingCa.addAll(List.of("--backend-ca", dir.resolve("absent.pem").toString()));
    assertThatThrownBy(() -> command(missingCa.toArray(new String[0])).start(w, w))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--backend-ca: " + dir.resolve("absent.pem") + ": no such file");

    List<String> keyAsCa = new ArrayList<>(base);
    keyAsCa.addAll(List.of("--backend-ca", pem.privateKey().toString()));
    assertThatThrownBy(() -> command(keyAsCa.toArray(new String[0])).start(w, w))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--backend-ca: " + pem.privateKey());
  }
}

package dev.affinity.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.testkit.EchoBackend;
import dev.affinity.testkit.RawConnection;
import io.netty.handler.codec.http.FullHttpRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * wss: TLS ends at the Jetty connector and the tunnel runs over Jetty's decrypted endpoint; the
 * backend is told the client used https.
 */
class TlsTunnelTest {
  private static final String PASSWORD = "changeit";

  @Test
  void tlsClient_isTunnelled_andForwardedAsHttps(@TempDir Path dir) throws Exception {
    Path keystore = dir.resolve("proxy.p12");
    Process keytool =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "proxy",
                "-keyalg",
                "EC",
                "-dname",
                "CN=localhost",
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                keystore.toString(),
                "-storepass",
                PASSWORD,
                "-keypass",
                PASSWORD)
            .redirectErrorStream(true)
            .start();
    assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(keytool.exitValue()).isZero();

    try (EchoBackend ws1 = EchoBackend.start("ws-1")) {
      Router router =
          Router.builder(BackendGroup.of(Backend.of("ws-1", "127.0.0.1", ws1.port()))).build();
      SslContextFactory.Server tls = new SslContextFactory.Server();
      tls.setKeyStorePath(keystore.toString());
      tls.setKeyStorePassword(PASSWORD);
      Server server = new Server();
      HttpConfiguration http = new HttpConfiguration();
      SecureRequestCustomizer secure = new SecureRequestCustomizer();
      secure.setSniHostCheck(false); // the test certificate names localhost; clients use the IP
      http.addCustomizer(secure);
      HttpConnectionFactory h1 = new HttpConnectionFactory(http);
      ServerConnector connector =
          new ServerConnector(server, new SslConnectionFactory(tls, h1.getProtocol()), h1);
      connector.setHost("127.0.0.1");
      server.addConnector(connector);
      server.setHandler(AffinityHandler.builder(router).build());
      server.start();
      try (SSLSocket socket =
          (SSLSocket)
              trustAll().getSocketFactory().createSocket("127.0.0.1", connector.getLocalPort())) {
        socket.setSoTimeout(30_000);
        OutputStream out = socket.getOutputStream();
        InputStream in = socket.getInputStream();
        out.write(RawConnection.upgradeRequest("/secure").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        List<String> head = readHead(in);
        assertThat(head.get(0)).as("%s", head).startsWith("HTTP/1.1 101");
        assertThat(readSmallTextFrame(in)).isEqualTo("backend:ws-1");
        out.write(maskedText("over tls"));
        out.flush();
        assertThat(readSmallTextFrame(in)).isEqualTo("over tls");
      } finally {
        server.stop();
      }
      FullHttpRequest seen = ws1.handshakes().get(0);
      assertThat(seen.headers().get("X-Forwarded-Proto")).isEqualTo("https");
      assertThat(seen.headers().get("Forwarded")).contains("proto=https");
    }
  }

  private static SSLContext trustAll() throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(
        null,
        new TrustManager[] {
          new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public X509Certificate[] getAcceptedIssuers() {
              return new X509Certificate[0];
            }
          }
        },
        null);
    return ctx;
  }

  private static List<String> readHead(InputStream in) throws IOException {
    List<String> lines = new ArrayList<>();
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("closed in the response head: " + lines);
      }
      if (c == '\n') {
        String l = line.toString(StandardCharsets.ISO_8859_1).replace("\r", "");
        if (l.isEmpty()) {
          return lines;
        }
        lines.add(l);
        line.reset();
      } else {
        line.write(c);
      }
    }
  }

  private static String readSmallTextFrame(InputStream in) throws IOException {
    int b0 = in.read();
    int len = in.read();
    assertThat(b0).as("FIN text frame").isEqualTo(0x81);
    assertThat(len).as("unmasked, short").isLessThan(126);
    return new String(in.readNBytes(len), StandardCharsets.UTF_8);
  }

  private static byte[] maskedText(String text) {
    byte[] payload = text.getBytes(StandardCharsets.UTF_8);
    byte[] mask = {7, 1, 2, 9};
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0x81);
    out.write(0x80 | payload.length);
    out.writeBytes(mask);
    for (int i = 0; i < payload.length; i++) {
      out.write(payload[i] ^ mask[i % 4]);
    }
    return out.toByteArray();
  }
}

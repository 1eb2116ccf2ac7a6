package dev.affinity.testkit;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.Router;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS on both adapters, with certificates generated in the test ({@link TestCertificates}): a
 * {@code wss://} client through the proxy's TLS listener to a {@code wss://} backend, a certificate
 * renewed on disk served from the next handshake while an open tunnel keeps working, and a backend
 * whose certificate the proxy does not trust refused. Extend it once per adapter.
 */
public abstract class TlsScenarios {
  /** The longest a renewed certificate may take to be served (the check runs every 20 ms). */
  private static final Duration RENEWAL_WAIT = Duration.ofSeconds(20);

  /** A proxy with a TLS listener. */
  protected interface TlsProxy extends AutoCloseable {
    /** The listener's port on 127.0.0.1. */
    int port();

    /** Re-reads the certificate files now (the adapter's {@code reloadTls()}). */
    boolean reloadTls();

    @Override
    void close();

    /**
     * A TLS proxy on {@code port} that reloads with {@code reloadTls} and stops with {@code close}.
     */
    static TlsProxy of(IntSupplier port, BooleanSupplier reloadTls, Runnable close) {
      requireNonNull(port, "port");
      requireNonNull(reloadTls, "reloadTls");
      requireNonNull(close, "close");
      return new TlsProxy() {
        @Override
        public int port() {
          return port.getAsInt();
        }

        @Override
        public boolean reloadTls() {
          return reloadTls.getAsBoolean();
        }

        @Override
        public void close() {
          close.run();
        }
      };
    }
  }

  /**
   * Starts the adapter on 127.0.0.1 with a TLS listener on {@code certificate} and {@code key},
   * checking the files every {@code checkInterval}, verifying {@code wss} backends with {@code
   * backendTrust}.
   */
  protected abstract TlsProxy startTlsProxy(
      Router router, Path certificate, Path key, Duration checkInterval, SSLContext backendTrust)
      throws Exception;

  /** A router over one backend at 127.0.0.1:{@code port}, over TLS when {@code wss}. */
  protected static Router router(String id, int port, boolean wss) {
    Backend b = Backend.of(id, "127.0.0.1", port);
    if (wss) {
      b = b.withMetadata("scheme", "wss");
    }
    return Router.builder(BackendGroup.of(b)).build();
  }

  @Test
  void wssClient_throughTlsListener_toWssBackend_echoesOverVerifiedTls(@TempDir Path dir)
      throws Exception {
    TestCertificates.Pem proxyCert = TestCertificates.generate(dir, "proxy");
    TestCertificates.Pem backendCert = TestCertificates.generate(dir, "backend");
    try (EchoBackend ws1 = EchoBackend.builder("ws-1").tls(backendCert.serverContext()).start();
        TlsProxy proxy =
            startTlsProxy(
                router("ws-1", ws1.port(), true),
                proxyCert.certificate(),
                proxyCert.privateKey(),
                Duration.ofSeconds(1),
                TestCertificates.trusting(backendCert.x509()));
        WsClient client = WsClient.jdk(TestCertificates.trusting(proxyCert.x509()));
        WsSession ws = client.connect(Handshake.to(proxy.port(), "/secure"))) {
      assertThat(ws.nextText()).isEqualTo("backend:ws-1");
      ws.sendText("over tls twice");
      assertThat(ws.nextText()).isEqualTo("over tls twice");

      TestCertificates.Presented presented =
          TestCertificates.handshake(proxy.port(), TestCertificates.trusting(proxyCert.x509()));
      assertThat(presented.certificate()).isEqualTo(proxyCert.x509());
      assertThat(presented.alpn()).isEqualTo("http/1.1");
      assertThat(presented.protocol()).isIn("TLSv1.3", "TLSv1.2");
      assertThat(ws1.handshakes().get(0).headers().get("X-Forwarded-Proto")).isEqualTo("https");
      assertThat(ws1.handshakes().get(0).headers().get("Forwarded")).contains("proto=https");
    }
  }

  @Test
  void certificateRenewedOnDisk_isServedToTheNextHandshake_andOpenTunnelsKeepWorking(
      @TempDir Path dir) throws Exception {
    TestCertificates.Pem first = TestCertificates.generate(dir, "first");
    TestCertificates.Pem second = TestCertificates.generate(dir, "second");
    Path cert = dir.resolve("live.crt");
    Path key = dir.resolve("live.key");
    first.installAt(cert, key);
    SSLContext trustBoth = TestCertificates.trusting(first.x509(), second.x509());
    try (EchoBackend ws1 = EchoBackend.start("ws-1");
        TlsProxy proxy =
            startTlsProxy(
                router("ws-1", ws1.port(), false),
                cert,
                key,
                Duration.ofMillis(20),
                TestCertificates.trusting(first.x509()));
        WsClient client = WsClient.jdk(trustBoth);
        WsSession before = client.connect(Handshake.to(proxy.port(), "/a"))) {
      assertThat(before.nextText()).isEqualTo("backend:ws-1");
      assertThat(TestCertificates.handshake(proxy.port(), trustBoth).certificate())
          .isEqualTo(first.x509());

      second.installAt(cert, key);
      X509Certificate served = first.x509();
      long deadline = System.nanoTime() + RENEWAL_WAIT.toNanos();
      while (served.equals(first.x509()) && System.nanoTime() < deadline) {
        served = TestCertificates.handshake(proxy.port(), trustBoth).certificate();
      }
      assertThat(served).as("the renewed certificate").isEqualTo(second.x509());

      before.sendText("still here");
      assertThat(before.nextText()).isEqualTo("still here");
      try (WsSession after = client.connect(Handshake.to(proxy.port(), "/b"))) {
        assertThat(after.nextText()).isEqualTo("backend:ws-1");
        after.sendText("new session");
        assertThat(after.nextText()).isEqualTo("new session");
      }
    }
  }

  @Test
  void brokenRenewal_isRefusedWhole_andTheOldCertificateKeepsBeingServed(@TempDir Path dir)
      throws Exception {
    TestCertificates.Pem first = TestCertificates.generate(dir, "first");
    TestCertificates.Pem other = TestCertificates.generate(dir, "other");
    Path cert = dir.resolve("live.crt");
    Path key = dir.resolve("live.key");
    first.installAt(cert, key);
    SSLContext trust = TestCertificates.trusting(first.x509(), other.x509());
    try (EchoBackend ws1 = EchoBackend.start("ws-1");
        TlsProxy proxy =
            startTlsProxy(
                router("ws-1", ws1.port(), false),
                cert,
                key,
                Duration.ZERO, // reload on request only: no race with a background check
                TestCertificates.trusting(first.x509()));
        WsClient client = WsClient.jdk(trust)) {
      assertThat(proxy.reloadTls()).as("nothing changed").isFalse();
      // Another certificate over the old key: refused whole, naming the key file.
      Files.copy(other.certificate(), cert, StandardCopyOption.REPLACE_EXISTING);
      assertThatThrownBy(proxy::reloadTls)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(key.toString())
          .hasMessageContaining("does not belong");
      assertThat(TestCertificates.handshake(proxy.port(), trust).certificate())
          .isEqualTo(first.x509());
      try (WsSession ws = client.connect(Handshake.to(proxy.port(), "/"))) {
        assertThat(ws.nextText()).isEqualTo("backend:ws-1");
      }
      // The key follows: the pair is whole again and served.
      Files.copy(other.privateKey(), key, StandardCopyOption.REPLACE_EXISTING);
      assertThat(proxy.reloadTls()).isTrue();
      assertThat(TestCertificates.handshake(proxy.port(), trust).certificate())
          .isEqualTo(other.x509());
    }
  }

  @Test
  void wssBackend_withAnUntrustedCertificate_isNotTunnelled(@TempDir Path dir) throws Exception {
    TestCertificates.Pem proxyCert = TestCertificates.generate(dir, "proxy");
    TestCertificates.Pem backendCert = TestCertificates.generate(dir, "backend");
    TestCertificates.Pem stranger = TestCertificates.generate(dir, "stranger");
    try (EchoBackend ws1 = EchoBackend.builder("ws-1").tls(backendCert.serverContext()).start();
        TlsProxy proxy =
            startTlsProxy(
                router("ws-1", ws1.port(), true),
                proxyCert.certificate(),
                proxyCert.privateKey(),
                Duration.ofSeconds(1),
                TestCertificates.trusting(stranger.x509()));
        WsClient client = WsClient.jdk(TestCertificates.trusting(proxyCert.x509()))) {
      assertThatThrownBy(() -> client.connect(Handshake.to(proxy.port(), "/")).close())
          .isInstanceOf(HandshakeFailedException.class)
          .satisfies(e -> assertThat(((HandshakeFailedException) e).status()).isBetween(500, 599));
      assertThat(ws1.sessionsOpened()).isZero();
    }
  }
}

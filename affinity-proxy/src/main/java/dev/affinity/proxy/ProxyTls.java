package dev.affinity.proxy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;

/**
 * The proxy's TLS flags: the listener's PEM certificate chain and key ({@code --tls-cert}, {@code
 * --tls-key}), and the CA file that {@code wss://} backends are verified against ({@code
 * --backend-ca}, default the JVM trust store).
 *
 * @param certificate the listener's PEM certificate chain, or null for a plain listener
 * @param key the listener's PEM PKCS#8 key, or null for a plain listener
 * @param backendCa PEM CA certificates for {@code wss://} backends, or null for the JVM's
 */
record ProxyTls(@Nullable Path certificate, @Nullable Path key, @Nullable Path backendCa) {
  /** Whether the listener serves TLS. */
  boolean listener() {
    return certificate != null && key != null;
  }

  /**
   * The context {@code wss://} backends are verified with, or null for the JVM's default.
   *
   * @throws IllegalArgumentException naming {@code --backend-ca}, the file and the reason
   */
  @Nullable SSLContext backendContext() {
    Path ca = backendCa;
    if (ca == null) {
      return null;
    }
    byte[] pem;
    try {
      pem = Files.readAllBytes(ca);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("--backend-ca: " + ca + ": no such file", e);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "--backend-ca: " + ca + ": cannot read (" + e.getClass().getSimpleName() + ")", e);
    }
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      int i = 0;
      for (Certificate c :
          CertificateFactory.getInstance("X.509")
              .generateCertificates(new ByteArrayInputStream(pem))) {
        trust.setCertificateEntry("ca-" + i++, c);
      }
      if (i == 0) {
        throw new IllegalArgumentException(
            "--backend-ca: " + ca + ": no certificate (expected: PEM 'BEGIN CERTIFICATE' blocks)");
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException(
          "--backend-ca: "
              + ca
              + ": not a PEM certificate file ("
              + e.getMessage()
              + ") (expected: PEM 'BEGIN CERTIFICATE' blocks)",
          e);
    }
  }
}

package dev.affinity.testkit;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * Certificates made in the test, never checked in: the JDK's own {@code keytool} generates an EC
 * key pair and a self-signed certificate for {@code localhost} and {@code 127.0.0.1} (so host-name
 * verification passes on loopback), and this class writes them as the PEM files a server is
 * configured with. keytool is used rather than a crypto library because every JDK ships it, so the
 * tests add no dependency, and the certificates are real X.509 ones that any TLS stack accepts.
 */
public final class TestCertificates {
  private static final char[] PASSWORD = "changeit".toCharArray();

  private TestCertificates() {}

  /** A generated certificate and its key, written as PEM files. */
  public static final class Pem {
    private final Path certificate;
    private final Path privateKey;
    private final X509Certificate x509;
    private final KeyStore keyStore;

    private Pem(Path certificate, Path privateKey, X509Certificate x509, KeyStore keyStore) {
      this.certificate = certificate;
      this.privateKey = privateKey;
      this.x509 = x509;
      this.keyStore = keyStore;
    }

    /** A server context serving this certificate, for a test backend. */
    public SSLContext serverContext() {
      try {
        KeyManagerFactory kmf =
            KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keyStore, PASSWORD);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        return ctx;
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }

    /** The PEM certificate file ({@code BEGIN CERTIFICATE}). */
    public Path certificate() {
      return certificate;
    }

    /** The PEM PKCS#8 private key file ({@code BEGIN PRIVATE KEY}). */
    public Path privateKey() {
      return privateKey;
    }

    /** The certificate. */
    public X509Certificate x509() {
      return x509;
    }

    /**
     * Copies this pair over {@code certificate} and {@code key} the way a renewal tool does: each
     * file written beside its target and moved over it atomically.
     */
    public void installAt(Path certificateTarget, Path keyTarget) throws IOException {
      replace(privateKey, keyTarget);
      replace(certificate, certificateTarget);
    }

    private static void replace(Path from, Path to) throws IOException {
      Path tmp = to.resolveSibling(to.getFileName() + ".tmp");
      Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
      Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
  }

  /**
   * Generates a self-signed certificate with the subject {@code CN=<name>} valid for {@code
   * localhost} and {@code 127.0.0.1}, written to {@code <dir>/<name>.crt} and {@code
   * <dir>/<name>.key}.
   */
  public static Pem generate(Path dir, String name) throws IOException, InterruptedException {
    requireNonNull(dir, "dir");
    requireNonNull(name, "name");
    Path store = dir.resolve(name + ".p12");
    Files.deleteIfExists(store);
    Process keytool =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "k",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=" + name,
                "-ext",
                "SAN=dns:localhost,ip:127.0.0.1",
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                store.toString(),
                "-storepass",
                new String(PASSWORD),
                "-keypass",
                new String(PASSWORD))
            .redirectErrorStream(true)
            .start();
    String output;
    try (InputStream in = keytool.getInputStream()) {
      output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    if (!keytool.waitFor(60, TimeUnit.SECONDS) || keytool.exitValue() != 0) {
      keytool.destroyForcibly();
      throw new IOException("keytool failed: " + output);
    }
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(store)) {
        ks.load(in, PASSWORD);
      }
      Key key = ks.getKey("k", PASSWORD);
      X509Certificate cert = (X509Certificate) ks.getCertificate("k");
      if (!(key instanceof PrivateKey) || cert == null) {
        throw new IOException("keytool wrote no key pair to " + store);
      }
      Path crt = dir.resolve(name + ".crt");
      Path pem = dir.resolve(name + ".key");
      Files.writeString(crt, pem("CERTIFICATE", cert.getEncoded()), StandardCharsets.US_ASCII);
      Files.writeString(pem, pem("PRIVATE KEY", key.getEncoded()), StandardCharsets.US_ASCII);
      return new Pem(crt, pem, cert, ks);
    } catch (GeneralSecurityException e) {
      throw new IOException("reading " + store + ": " + e.getMessage(), e);
    }
  }

  /** A client context that trusts exactly these certificates. */
  public static SSLContext trusting(X509Certificate... certificates) {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      for (int i = 0; i < certificates.length; i++) {
        trust.setCertificateEntry("t" + i, certificates[i]);
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Opens a TLS connection to {@code 127.0.0.1:port}, completes the handshake and returns the
   * certificate the server presented, with the ALPN protocol it chose offering {@code h2} and
   * {@code http/1.1}.
   */
  public static Presented handshake(int port, SSLContext context) throws IOException {
    try (SSLSocket socket =
        (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      var p = socket.getSSLParameters();
      p.setApplicationProtocols(new String[] {"h2", "http/1.1"});
      p.setEndpointIdentificationAlgorithm("HTTPS");
      socket.setSSLParameters(p);
      socket.startHandshake();
      return new Presented(
          (X509Certificate) socket.getSession().getPeerCertificates()[0],
          socket.getApplicationProtocol(),
          socket.getSession().getProtocol());
    }
  }

  /** What a server presented in {@link #handshake}. */
  public static final class Presented {
    private final X509Certificate certificate;
    private final String alpn;
    private final String protocol;

    Presented(X509Certificate certificate, String alpn, String protocol) {
      this.certificate = certificate;
      this.alpn = alpn;
      this.protocol = protocol;
    }

    /** The server's certificate. */
    public X509Certificate certificate() {
      return certificate;
    }

    /** The ALPN protocol chosen ({@code ""} for none). */
    public String alpn() {
      return alpn;
    }

    /** The TLS protocol version, such as {@code TLSv1.3}. */
    public String protocol() {
      return protocol;
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }
}

package dev.affinity.internal.tls;

import static java.util.Objects.requireNonNull;

import dev.affinity.backend.Backend;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;

/**
 * Reads TLS material from PEM files with the JDK alone, for both adapters. Not API.
 *
 * <p>Errors are {@link IllegalArgumentException}s naming the file and the reason, never a key's
 * content.
 */
public final class PemTls {
  /** The protocols both adapters enable, client and server side: TLS 1.3 and 1.2. */
  public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

  /** The one application protocol a WebSocket listener offers over ALPN. */
  public static final String ALPN_HTTP_1_1 = "http/1.1";

  /** The backend metadata key whose value {@code wss} asks an adapter for TLS to that backend. */
  public static final String SCHEME_METADATA = "scheme";

  /** The {@link #SCHEME_METADATA} value of a TLS backend. */
  public static final String WSS = "wss";

  /** The default interval at which listeners look for a renewed certificate or key file. */
  public static final Duration DEFAULT_CHECK_INTERVAL = Duration.ofSeconds(1);

  private static final String ALIAS = "affinity";
  // An in-memory key store needs a password; it never leaves this JVM.
  private static final char[] STORE_PASSWORD = "affinity".toCharArray();
  private static final Pattern PRIVATE_KEY =
      Pattern.compile(
          "-----BEGIN ([A-Z ]*)PRIVATE KEY-----([A-Za-z0-9+/=\\s]*)-----END \\1PRIVATE KEY-----");
  private static final List<String> KEY_ALGORITHMS = List.of("RSA", "EC", "Ed25519", "Ed448");

  private PemTls() {}

  /** What a listener serves: the key managers and the stamp of the files they were read from. */
  public static final class ServerMaterial {
    private final KeyManagerFactory keyManagers;
    private final String stamp;
    private final X509Certificate leaf;

    private ServerMaterial(KeyManagerFactory keyManagers, String stamp, X509Certificate leaf) {
      this.keyManagers = keyManagers;
      this.stamp = stamp;
      this.leaf = leaf;
    }

    /** Key managers holding the chain and its key. */
    public KeyManagerFactory keyManagers() {
      return keyManagers;
    }

    /** The files' change stamp when they were read (see {@link PemTls#stamp}). */
    public String stamp() {
      return stamp;
    }

    /** A server context serving the chain (no client certificates asked for). */
    public SSLContext sslContext() {
      try {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keyManagers.getKeyManagers(), null, new SecureRandom());
        return context;
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("TLS context: " + e.getMessage(), e);
      }
    }

    /** The first certificate of the chain. */
    public X509Certificate leaf() {
      return leaf;
    }
  }

  /**
   * Reads a PEM certificate chain (leaf first) and its unencrypted PKCS#8 private key ({@code BEGIN
   * PRIVATE KEY}), and checks that the key belongs to the leaf certificate.
   *
   * @throws IllegalArgumentException naming the file and what is wrong with it
   */
  public static ServerMaterial server(Path certificateChain, Path privateKey) {
    requireNonNull(certificateChain, "certificateChain");
    requireNonNull(privateKey, "privateKey");
    String stamp = stamp(certificateChain, privateKey);
    List<X509Certificate> chain = certificates("tls certificate", certificateChain);
    PrivateKey key = privateKey(privateKey);
    X509Certificate leaf = chain.get(0);
    if (!matches(key, leaf.getPublicKey())) {
      throw new IllegalArgumentException(
          "tls key: "
              + privateKey
              + ": does not belong to the first certificate of "
              + certificateChain
              + " (expected: the private key of "
              + leaf.getSubjectX500Principal().getName()
              + ")");
    }
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry(ALIAS, key, STORE_PASSWORD, chain.toArray(new Certificate[0]));
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(store, STORE_PASSWORD);
      return new ServerMaterial(kmf, stamp, leaf);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException(
          "tls certificate: " + certificateChain + ": " + e.getMessage(), e);
    }
  }

  /**
   * A client context that verifies servers against the certificates of a PEM file, or the JVM's
   * trust store when {@code caFile} is null. Host names are checked by the caller (endpoint
   * identification {@code HTTPS} on each engine).
   *
   * @throws IllegalArgumentException naming the file and what is wrong with it
   */
  public static SSLContext clientContext(@Nullable Path caFile) {
    try {
      if (caFile == null) {
        return SSLContext.getDefault();
      }
      List<X509Certificate> cas = certificates("backend ca", caFile);
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      for (int i = 0; i < cas.size(); i++) {
        trust.setCertificateEntry("ca-" + i, cas.get(i));
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), new SecureRandom());
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("backend ca: " + caFile + ": " + e.getMessage(), e);
    }
  }

  /**
   * A stamp that changes when any of the files is replaced or rewritten: modification time, size
   * and file identity (symbolic links followed, as Kubernetes swaps mounted secrets), or {@code
   * missing}.
   */
  public static String stamp(Path... files) {
    StringBuilder s = new StringBuilder();
    for (Path f : files) {
      try {
        BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
        s.append(a.lastModifiedTime().toMillis())
            .append('/')
            .append(a.size())
            .append('/')
            .append(a.fileKey())
            .append(';');
      } catch (IOException e) {
        s.append("missing;");
      }
    }
    return s.toString();
  }

  /** Whether {@code backend} is reached over TLS: its {@link #SCHEME_METADATA} is {@code wss}. */
  public static boolean isTls(Backend backend) {
    return WSS.equals(backend.metadata().get(SCHEME_METADATA));
  }

  /**
   * A client engine for {@code backend}: TLS 1.2 and 1.3, the host name sent as SNI (when it is not
   * an IP literal) and checked against the certificate (endpoint identification {@code HTTPS}).
   */
  public static SSLEngine clientEngine(SSLContext context, Backend backend) {
    SSLEngine engine = context.createSSLEngine(backend.host(), backend.port());
    engine.setUseClientMode(true);
    SSLParameters p = engine.getSSLParameters();
    p.setEndpointIdentificationAlgorithm("HTTPS");
    p.setProtocols(PROTOCOLS.toArray(new String[0]));
    engine.setSSLParameters(p);
    return engine;
  }

  /** The JVM's default client context (its trust store), as an unchecked failure if it has none. */
  public static SSLContext defaultClientContext() {
    try {
      return SSLContext.getDefault();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JVM has no default TLS context: " + e.getMessage(), e);
    }
  }

  private static List<X509Certificate> certificates(String what, Path file) {
    byte[] bytes = read(what, file);
    try {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      List<X509Certificate> out = new ArrayList<>();
      for (Certificate c : cf.generateCertificates(new ByteArrayInputStream(bytes))) {
        out.add((X509Certificate) c);
      }
      if (out.isEmpty()) {
        throw new IllegalArgumentException(
            what + ": " + file + ": no certificate (expected: PEM 'BEGIN CERTIFICATE' blocks)");
      }
      return out;
    } catch (CertificateException e) {
      throw new IllegalArgumentException(
          what
              + ": "
              + file
              + ": not a PEM certificate file ("
              + e.getMessage()
              + ") (expected: PEM 'BEGIN CERTIFICATE' blocks)",
          e);
    }
  }

  private static PrivateKey privateKey(Path file) {
    String text = new String(read("tls key", file), StandardCharsets.US_ASCII);
    Matcher m = PRIVATE_KEY.matcher(text);
    if (!m.find()) {
      throw new IllegalArgumentException(
          "tls key: " + file + ": no private key (expected: PEM 'BEGIN PRIVATE KEY', PKCS#8)");
    }
    if (!m.group(1).isEmpty()) {
      throw new IllegalArgumentException(
          "tls key: "
              + file
              + ": a '"
              + m.group(1)
              + "PRIVATE KEY' (expected: unencrypted PKCS#8 'BEGIN PRIVATE KEY'; convert with"
              + " openssl pkcs8 -topk8 -nocrypt)");
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(m.group(2));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("tls key: " + file + ": bad base64 in the key block", e);
    }
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    for (String algorithm : KEY_ALGORITHMS) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (GeneralSecurityException e) {
        // not this algorithm: try the next
      }
    }
    throw new IllegalArgumentException(
        "tls key: " + file + ": unreadable PKCS#8 key (expected: an RSA, EC or EdDSA key)");
  }

  private static boolean matches(PrivateKey key, PublicKey publicKey) {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          default -> key.getAlgorithm(); // Ed25519, Ed448
        };
    try {
      byte[] probe = "affinity key check".getBytes(StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(publicKey);
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static byte[] read(String what, Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(what + ": " + file + ": no such file", e);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          what + ": " + file + ": cannot read (" + e.getClass().getSimpleName() + ")", e);
    }
  }
}

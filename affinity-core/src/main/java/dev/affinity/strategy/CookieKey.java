package dev.affinity.strategy;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.AffinityConfigurationException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;

/**
 * One HMAC-SHA256 key for {@linkplain CookieAffinity affinity cookies}, with the small id written
 * into every cookie it signs so that a verifier knows which key to check it with.
 *
 * <pre>{@code
 * CookieKey current = CookieKey.fromBase64(2, System.getenv("AFFINITY_COOKIE_KEY"));
 * CookieKey previous = CookieKey.fromFile(1, Path.of("/etc/affinity/cookie-key-1"));
 * CookieKeys keys = CookieKeys.of(current, previous); // sign with 2, still accept 1
 * }</pre>
 *
 * <p>Secrets must be at least {@value #MIN_LENGTH} bytes of random data (for example {@code openssl
 * rand -base64 32}). The secret is copied in and never shown: {@link #toString()} prints only the
 * id and the length.
 */
public final class CookieKey {
  /** The shortest secret accepted, in bytes: the output size of SHA-256. */
  public static final int MIN_LENGTH = 32;

  /** The largest secret accepted, in bytes. */
  public static final int MAX_LENGTH = 1024;

  private final int id;
  private final byte[] secret;

  private CookieKey(int id, byte[] secret) {
    this.id = id;
    this.secret = secret;
  }

  /**
   * A key from raw secret bytes, which are copied.
   *
   * @param id 0..255, written into each cookie; give each new key the next id
   * @throws AffinityConfigurationException if the id is out of range or the secret is shorter than
   *     {@value #MIN_LENGTH} or longer than {@value #MAX_LENGTH} bytes
   */
  public static CookieKey of(int id, byte[] secret) {
    requireNonNull(secret, "secret");
    check(id >= 0 && id <= 255, "id", id, "0..255");
    check(
        secret.length >= MIN_LENGTH,
        "secret",
        secret.length + " bytes",
        "at least " + MIN_LENGTH + " bytes");
    check(
        secret.length <= MAX_LENGTH,
        "secret",
        secret.length + " bytes",
        "at most " + MAX_LENGTH + " bytes");
    return new CookieKey(id, secret.clone());
  }

  /**
   * A key from standard or URL-safe Base64 text (padding optional, surrounding white space
   * ignored).
   *
   * @throws AffinityConfigurationException if the text is not Base64 or decodes to a secret of the
   *     wrong length
   */
  public static CookieKey fromBase64(int id, String base64) {
    requireNonNull(base64, "base64");
    String text = base64.strip();
    byte[] secret;
    try {
      secret =
          text.indexOf('-') >= 0 || text.indexOf('_') >= 0
              ? Base64.getUrlDecoder().decode(text)
              : Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      // The message of the decoder may quote part of the secret: do not pass it on.
      throw new AffinityConfigurationException(
          "base64: <redacted> (expected: Base64 text of a secret of at least "
              + MIN_LENGTH
              + " bytes)");
    }
    return of(id, secret);
  }

  /**
   * A key read from a file holding the secret as Base64 text (as {@code openssl rand -base64 32}
   * writes it).
   *
   * @throws UncheckedIOException if the file cannot be read
   * @throws AffinityConfigurationException if its content is not a valid Base64 secret
   */
  public static CookieKey fromFile(int id, Path file) {
    requireNonNull(file, "file");
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read cookie key file " + file, e);
    }
    try {
      return fromBase64(id, text);
    } catch (AffinityConfigurationException e) {
      throw new AffinityConfigurationException("file " + file + ": " + e.getMessage());
    }
  }

  /** The id written into cookies this key signs. */
  public int id() {
    return id;
  }

  /** A copy of the secret. */
  byte[] secret() {
    return secret.clone();
  }

  /** Equal when the ids and the secrets are equal (compared in constant time). */
  @Override
  public boolean equals(Object o) {
    return o instanceof CookieKey
        && ((CookieKey) o).id == id
        && MessageDigest.isEqual(((CookieKey) o).secret, secret);
  }

  @Override
  public int hashCode() {
    // Deliberately not derived from the secret.
    return Integer.hashCode(id) * 31 + secret.length;
  }

  /** The id and the secret's length; never the secret. */
  @Override
  public String toString() {
    return "CookieKey{id=" + id + ", " + secret.length + " bytes}";
  }
}

package dev.affinity.examples.demo;

import com.google.common.hash.Hashing;
import java.nio.charset.StandardCharsets;

/**
 * A short, one-way fingerprint of a cookie value, so that the demo can show whether the cookie
 * changed without showing the cookie.
 */
public final class CookieFingerprint {
  private CookieFingerprint() {}

  /** The first 8 hex digits of the SHA-256 of {@code value}. */
  public static String of(String value) {
    return Hashing.sha256().hashString(value, StandardCharsets.UTF_8).toString().substring(0, 8);
  }
}

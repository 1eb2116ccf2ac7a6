package dev.affinity.strategy;

import static dev.affinity.internal.Checks.check;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Turns a learned value (a backend's session id, a room id) into the digest a {@link LearnedStore}
 * keeps: HMAC-SHA256 with a secret key, base64url without padding. A store that leaks shows no
 * session ids, and nobody without the key can forge an entry for a value of their choosing. Every
 * instance of a fleet must use the same key.
 */
public final class LearnedValueHasher {
  private final SecretKeySpec key;

  private LearnedValueHasher(SecretKeySpec key) {
    this.key = key;
  }

  /**
   * A hasher with {@code key}.
   *
   * @throws dev.affinity.AffinityConfigurationException if the key is shorter than 16 bytes
   */
  public static LearnedValueHasher hmacSha256(byte[] key) {
    requireNonNull(key, "key");
    check(key.length >= 16, "hmacKey", key.length + " bytes", ">= 16 bytes");
    return new LearnedValueHasher(new SecretKeySpec(key.clone(), "HmacSHA256"));
  }

  /** The digest of {@code value}. */
  public String digest(String value) {
    requireNonNull(value, "value");
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return Base64.getUrlEncoder()
          .withoutPadding()
          .encodeToString(mac.doFinal(value.getBytes(UTF_8)));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is required of every Java platform", e);
    }
  }

  @Override
  public String toString() {
    return "LearnedValueHasher.hmacSha256(<key>)";
  }
}

package dev.affinity.strategy;

/**
 * The JWS algorithms {@linkplain JwtAffinity JWT affinity} verifies with. There is no {@code none}:
 * a token must be signed with exactly the configured algorithm.
 */
public enum JwtAlgorithm {
  /** HMAC with SHA-256; a shared secret of at least 32 bytes. */
  HS256(Family.HMAC, 32),
  /** HMAC with SHA-384; a shared secret of at least 48 bytes. */
  HS384(Family.HMAC, 48),
  /** HMAC with SHA-512; a shared secret of at least 64 bytes. */
  HS512(Family.HMAC, 64),
  /** RSASSA-PKCS1-v1_5 with SHA-256; an RSA public key of at least 2048 bits. */
  RS256(Family.RSA, 2048),
  /** RSASSA-PKCS1-v1_5 with SHA-384; an RSA public key of at least 2048 bits. */
  RS384(Family.RSA, 2048),
  /** RSASSA-PKCS1-v1_5 with SHA-512; an RSA public key of at least 2048 bits. */
  RS512(Family.RSA, 2048),
  /** ECDSA with P-256 and SHA-256; an EC public key on P-256. */
  ES256(Family.EC, 256),
  /** ECDSA with P-384 and SHA-384; an EC public key on P-384. */
  ES384(Family.EC, 384),
  /** ECDSA with P-521 and SHA-512; an EC public key on P-521. */
  ES512(Family.EC, 521);

  /** What kind of key an algorithm takes. */
  public enum Family {
    /** A shared secret. */
    HMAC,
    /** An RSA public key. */
    RSA,
    /** An elliptic-curve public key. */
    EC
  }

  private final Family family;
  private final int keySize;

  JwtAlgorithm(Family family, int keySize) {
    this.family = family;
    this.keySize = keySize;
  }

  /** The kind of key this algorithm verifies with. */
  public Family family() {
    return family;
  }

  /**
   * The key size this algorithm needs: the least secret length in bytes (HMAC), the least modulus
   * length in bits (RSA), or the curve's field size in bits (EC).
   */
  public int keySize() {
    return keySize;
  }
}

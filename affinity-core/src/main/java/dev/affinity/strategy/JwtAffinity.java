package dev.affinity.strategy;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import com.google.common.collect.ImmutableList;
import dev.affinity.AffinityConfigurationException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The configuration of {@linkplain AffinityStrategy#jwt(JwtAffinity) JWT affinity}: how a token is
 * found and verified, and which claims route it.
 *
 * <pre>{@code
 * JwtAffinity jwt = JwtAffinity.builder(JwtAlgorithm.RS256, issuerPublicKey)
 *     .issuer("https://auth.example.com")
 *     .audience("chat")
 *     .sources(TokenSource.authorizationBearer(), TokenSource.webSocketProtocol())
 *     .claims("tenant", "sub")               // the rendezvous key: same user, same backend
 *     .invalidToken(InvalidTokenPolicy.REJECT)
 *     .build();
 * }</pre>
 *
 * <p>Verification uses {@code com.auth0:java-jwt} with exactly the configured algorithm and key: a
 * token whose header names another algorithm, or {@code none}, is invalid, so an RSA public key can
 * never be used as an HMAC secret (algorithm confusion). Defaults: source {@link
 * TokenSource#authorizationBearer()}, key claim {@code sub}, {@code exp} required, leeway {@link
 * #DEFAULT_LEEWAY}, any issuer and audience (set both in production), policy {@link
 * InvalidTokenPolicy#REJECT}, tokens up to {@value #DEFAULT_MAX_TOKEN_LENGTH} characters, {@value
 * #DEFAULT_CACHE_SIZE} verified tokens cached. Time ({@code exp}, {@code nbf}, {@code iat}, drain
 * deadlines) comes from the group's clock ({@link
 * dev.affinity.backend.BackendGroup#create(InstantSource)}), like everything a router decides.
 * Immutable and thread-safe.
 */
public final class JwtAffinity {
  /** Clock skew tolerated on {@code exp}, {@code nbf} and {@code iat} unless told otherwise. */
  public static final Duration DEFAULT_LEEWAY = Duration.ofSeconds(30);

  /** The longest token read unless told otherwise, in characters. */
  public static final int DEFAULT_MAX_TOKEN_LENGTH = 8192;

  /** How many verified tokens are remembered unless told otherwise. */
  public static final int DEFAULT_CACHE_SIZE = 10_000;

  /** What to do with a request whose token is present but invalid. */
  public enum InvalidTokenPolicy {
    /** End the decision with {@link dev.affinity.Outcome#REJECTED}; adapters answer 401. */
    REJECT,
    /** Treat the token as absent: the next strategy decides. */
    ABSTAIN
  }

  private final JwtAlgorithm algorithm;
  private final byte @Nullable [] secret;
  private final @Nullable PublicKey publicKey;
  private final ImmutableList<String> issuers;
  private final ImmutableList<String> audiences;
  private final Duration leeway;
  private final boolean requireExpiry;
  private final ImmutableList<TokenSource> sources;
  private final ImmutableList<String> claims;
  private final @Nullable String backendClaim;
  private final InvalidTokenPolicy policy;
  private final int maxTokenLength;
  private final int cacheSize;
  private final @Nullable InstantSource clock;

  private JwtAffinity(Builder b) {
    this.algorithm = b.algorithm;
    this.secret = b.secret;
    this.publicKey = b.publicKey;
    this.issuers = ImmutableList.copyOf(b.issuers);
    this.audiences = ImmutableList.copyOf(b.audiences);
    this.leeway = b.leeway;
    this.requireExpiry = b.requireExpiry;
    this.sources = b.sources;
    this.claims = b.backendClaim == null ? b.claims : ImmutableList.of();
    this.backendClaim = b.backendClaim;
    this.policy = b.policy;
    this.maxTokenLength = b.maxTokenLength;
    this.cacheSize = b.cacheSize;
    this.clock = b.clock;
  }

  /**
   * A builder verifying with an HMAC algorithm and a shared secret (copied).
   *
   * @throws AffinityConfigurationException if {@code algorithm} is not HS256/384/512, the secret is
   *     shorter than the algorithm's hash, or it is an encoded public key (using a public key as an
   *     HMAC secret is the algorithm-confusion attack)
   */
  public static Builder builder(JwtAlgorithm algorithm, byte[] secret) {
    requireNonNull(algorithm, "algorithm");
    requireNonNull(secret, "secret");
    check(
        algorithm.family() == JwtAlgorithm.Family.HMAC,
        "algorithm",
        algorithm,
        "HS256, HS384 or HS512 with a shared secret; RS and ES take a public key");
    check(
        secret.length >= algorithm.keySize(),
        "secret",
        secret.length + " bytes",
        "at least " + algorithm.keySize() + " bytes for " + algorithm);
    check(!isEncodedPublicKey(secret), "secret", "an encoded public key", "a shared secret");
    return new Builder(algorithm, secret.clone(), null);
  }

  /**
   * A builder verifying with an RSA or EC algorithm and the issuer's public key.
   *
   * @throws AffinityConfigurationException if the key does not fit the algorithm: HS needs a shared
   *     secret, RS an RSA key of at least 2048 bits, ES an EC key on the algorithm's curve
   */
  public static Builder builder(JwtAlgorithm algorithm, PublicKey publicKey) {
    requireNonNull(algorithm, "algorithm");
    requireNonNull(publicKey, "publicKey");
    String kind = publicKey.getAlgorithm() + " public key";
    switch (algorithm.family()) {
      case RSA:
        check(publicKey instanceof RSAPublicKey, "publicKey", kind, "an RSA key for " + algorithm);
        int bits = ((RSAPublicKey) publicKey).getModulus().bitLength();
        check(
            bits >= algorithm.keySize(),
            "publicKey",
            bits + "-bit RSA",
            "at least " + algorithm.keySize() + " bits");
        break;
      case EC:
        check(publicKey instanceof ECPublicKey, "publicKey", kind, "an EC key for " + algorithm);
        int field = ((ECPublicKey) publicKey).getParams().getCurve().getField().getFieldSize();
        check(
            field == algorithm.keySize(),
            "publicKey",
            "EC key on a " + field + "-bit curve",
            "P-" + algorithm.keySize() + " for " + algorithm);
        break;
      case HMAC:
      default:
        throw new AffinityConfigurationException(
            "publicKey: "
                + kind
                + " (expected: a shared secret for "
                + algorithm
                + "; an HMAC keyed with a public key is the algorithm-confusion attack)");
    }
    return new Builder(algorithm, null, publicKey);
  }

  private static boolean isEncodedPublicKey(byte[] secret) {
    for (String type : List.of("RSA", "EC")) {
      try {
        KeyFactory.getInstance(type).generatePublic(new X509EncodedKeySpec(secret));
        return true;
      } catch (java.security.GeneralSecurityException | RuntimeException e) {
        // not a key of this type
      }
    }
    String text = new String(secret, java.nio.charset.StandardCharsets.ISO_8859_1);
    return text.contains("-----BEGIN") || text.startsWith("ssh-");
  }

  /** The algorithm tokens must be signed with. */
  public JwtAlgorithm algorithm() {
    return algorithm;
  }

  byte @Nullable [] secret() {
    return secret;
  }

  @Nullable PublicKey publicKey() {
    return publicKey;
  }

  /** The accepted issuers; empty for any. */
  public List<String> issuers() {
    return issuers;
  }

  /** The accepted audiences (a token needs one of them); empty for any. */
  public List<String> audiences() {
    return audiences;
  }

  /** The clock skew tolerated on time claims. */
  public Duration leeway() {
    return leeway;
  }

  /** Whether tokens without {@code exp} are invalid. */
  public boolean requireExpiry() {
    return requireExpiry;
  }

  /** Where tokens are looked for, in order. */
  public List<TokenSource> sources() {
    return sources;
  }

  /** The claims whose values make the rendezvous key; empty when {@link #backendClaim()} is set. */
  public List<String> claims() {
    return claims;
  }

  /** The claim that names the backend directly, or null. */
  public @Nullable String backendClaim() {
    return backendClaim;
  }

  /** What happens to a request with an invalid token. */
  public InvalidTokenPolicy invalidTokenPolicy() {
    return policy;
  }

  /** The longest token read, in characters; longer ones are invalid. */
  public int maxTokenLength() {
    return maxTokenLength;
  }

  /** How many verified tokens are remembered; 0 when caching is off. */
  public int cacheSize() {
    return cacheSize;
  }

  /** The clock set through the deprecated {@link Builder#clock}, or null (the group's). */
  @Nullable InstantSource clock() {
    return clock;
  }

  /** Shows the settings, never a key or a token. */
  @Override
  public String toString() {
    return "JwtAffinity{"
        + algorithm
        + (secret != null
            ? " with a " + secret.length + "-byte secret"
            : " with a " + requireNonNull(publicKey).getAlgorithm() + " public key")
        + (issuers.isEmpty() ? "" : ", issuers=" + issuers)
        + (audiences.isEmpty() ? "" : ", audiences=" + audiences)
        + ", leeway="
        + leeway
        + (requireExpiry ? "" : ", exp optional")
        + ", sources="
        + sources
        + (backendClaim != null ? ", backendClaim=" + backendClaim : ", claims=" + claims)
        + ", "
        + policy
        + ", maxTokenLength="
        + maxTokenLength
        + ", cacheSize="
        + cacheSize
        + "}";
  }

  /**
   * Builds a {@link JwtAffinity}; every setter validates its argument. Obtain one from {@link
   * JwtAffinity#builder(JwtAlgorithm, byte[])} or {@link JwtAffinity#builder(JwtAlgorithm,
   * PublicKey)}.
   */
  public static final class Builder {
    private final JwtAlgorithm algorithm;
    private final byte @Nullable [] secret;
    private final @Nullable PublicKey publicKey;
    private List<String> issuers = List.of();
    private List<String> audiences = List.of();
    private Duration leeway = DEFAULT_LEEWAY;
    private boolean requireExpiry = true;
    private ImmutableList<TokenSource> sources =
        ImmutableList.of(TokenSource.authorizationBearer());
    private ImmutableList<String> claims = ImmutableList.of("sub");
    private @Nullable String backendClaim;
    private InvalidTokenPolicy policy = InvalidTokenPolicy.REJECT;
    private int maxTokenLength = DEFAULT_MAX_TOKEN_LENGTH;
    private int cacheSize = DEFAULT_CACHE_SIZE;
    private @Nullable InstantSource clock;

    private Builder(JwtAlgorithm algorithm, byte @Nullable [] secret, @Nullable PublicKey key) {
      this.algorithm = algorithm;
      this.secret = secret;
      this.publicKey = key;
    }

    /**
     * The accepted {@code iss} values; a token must carry one of them. Default: any issuer.
     *
     * @throws AffinityConfigurationException if none is given or one is empty
     */
    public Builder issuer(String... issuers) {
      this.issuers = nonEmpty("issuer", issuers);
      return this;
    }

    /**
     * The accepted audiences; a token's {@code aud} must contain one of them. Default: any.
     *
     * @throws AffinityConfigurationException if none is given or one is empty
     */
    public Builder audience(String... audiences) {
      this.audiences = nonEmpty("audience", audiences);
      return this;
    }

    /**
     * The clock skew tolerated on {@code exp}, {@code nbf} and {@code iat}; default {@link
     * JwtAffinity#DEFAULT_LEEWAY}.
     *
     * @throws AffinityConfigurationException unless 0 to 10 minutes
     */
    public Builder leeway(Duration leeway) {
      requireNonNull(leeway, "leeway");
      check(
          !leeway.isNegative() && leeway.compareTo(Duration.ofMinutes(10)) <= 0,
          "leeway",
          leeway,
          "PT0S..PT10M");
      this.leeway = leeway;
      return this;
    }

    /**
     * Whether a token without {@code exp} is invalid; default true. Without expiry, a stolen token
     * routes forever.
     */
    public Builder requireExpiry(boolean require) {
      this.requireExpiry = require;
      return this;
    }

    /**
     * Where tokens are looked for, in order; the first source that holds one decides. Default:
     * {@link TokenSource#authorizationBearer()}.
     *
     * @throws AffinityConfigurationException if none is given
     */
    public Builder sources(TokenSource... sources) {
      requireNonNull(sources, "sources");
      check(sources.length > 0, "sources", "[]", "at least one token source");
      this.sources = ImmutableList.copyOf(sources);
      return this;
    }

    /**
     * The claim, or claims in order, whose values make the rendezvous key; default {@code sub}. A
     * claim must be a string or a number, and must be present (a token without it is invalid).
     * Several claims (such as {@code tenant} and {@code sub}) are joined without ambiguity; a
     * single claim's key is its value as text, so it routes exactly as a header with that value
     * would under {@link AffinityStrategy#rendezvous}. A refreshed token with the same claims goes
     * to the same backend.
     *
     * @throws AffinityConfigurationException if none is given, or one is empty or repeated
     */
    public Builder claims(String... claims) {
      List<String> list = nonEmpty("claims", claims);
      check(
          list.stream().distinct().count() == list.size(), "claims", list, "each claim named once");
      this.claims = ImmutableList.copyOf(list);
      this.backendClaim = null;
      return this;
    }

    /**
     * Pinned routing: the claim's value is the id of the backend to use, checked against the
     * membership. An unknown, DOWN or full backend is affinity lost (the next strategy places the
     * client, as a failover); a DRAINING one keeps the client until its drain deadline. Replaces
     * {@link #claims}.
     *
     * @throws AffinityConfigurationException if empty
     */
    public Builder backendClaim(String claim) {
      requireNonNull(claim, "claim");
      check(!claim.isEmpty(), "backendClaim", "''", "a claim name");
      this.backendClaim = claim;
      return this;
    }

    /**
     * What to do when a token is present but invalid; default {@link InvalidTokenPolicy#REJECT}.
     */
    public Builder invalidToken(InvalidTokenPolicy policy) {
      this.policy = requireNonNull(policy, "policy");
      return this;
    }

    /**
     * The longest token read, in characters; longer ones are invalid without being parsed. Default
     * {@value JwtAffinity#DEFAULT_MAX_TOKEN_LENGTH}.
     *
     * @throws AffinityConfigurationException unless 64..65536
     */
    public Builder maxTokenLength(int max) {
      check(max >= 64 && max <= 65_536, "maxTokenLength", max, "64..65536");
      this.maxTokenLength = max;
      return this;
    }

    /**
     * How many verified tokens to remember, keyed by the exact text that carried them (the whole
     * {@code Authorization} value, say), so a repeated token is not verified again until it
     * expires; 0 turns caching off. Default {@value JwtAffinity#DEFAULT_CACHE_SIZE}. Only verified
     * tokens are cached, so the memory held is at most this many real tokens (each at most {@link
     * #maxTokenLength} characters and a few more for the {@code Bearer} prefix), plus an array of
     * this many references allocated up front. When the cache is full a new token replaces one of
     * the few whose slots its hash picks, not necessarily the least recently used one.
     *
     * @throws AffinityConfigurationException unless 0..10,000,000
     */
    public Builder cacheSize(int size) {
      check(size >= 0 && size <= 10_000_000, "cacheSize", size, "0..10000000");
      this.cacheSize = size;
      return this;
    }

    /**
     * The clock that {@code exp}, {@code nbf} and {@code iat} and drain deadlines are read by.
     *
     * @deprecated tokens are checked on the group's clock, like everything a router decides: pass
     *     the clock to {@link dev.affinity.backend.BackendGroup#create(InstantSource)} instead. A
     *     clock set here must be that same clock: a router over a group with another clock refuses
     *     to build ({@link AffinityConfigurationException} naming both).
     */
    @Deprecated
    public Builder clock(InstantSource clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /** Returns the configuration. */
    public JwtAffinity build() {
      return new JwtAffinity(this);
    }

    private static List<String> nonEmpty(String field, String[] values) {
      requireNonNull(values, field);
      check(values.length > 0, field, "[]", "at least one value");
      for (String v : values) {
        requireNonNull(v, field + "[]");
        check(!v.isEmpty(), field, "''", "non-empty values");
      }
      return List.of(values);
    }
  }
}

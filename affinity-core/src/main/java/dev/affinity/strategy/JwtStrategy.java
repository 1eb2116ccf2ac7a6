package dev.affinity.strategy;

import static java.util.Objects.requireNonNull;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTVerifier;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.AlgorithmMismatchException;
import com.auth0.jwt.exceptions.IncorrectClaimException;
import com.auth0.jwt.exceptions.JWTDecodeException;
import com.auth0.jwt.exceptions.JWTVerificationException;
import com.auth0.jwt.exceptions.MissingClaimException;
import com.auth0.jwt.exceptions.SignatureVerificationException;
import com.auth0.jwt.exceptions.TokenExpiredException;
import com.auth0.jwt.interfaces.Claim;
import com.auth0.jwt.interfaces.DecodedJWT;
import com.auth0.jwt.interfaces.Verification;
import com.google.common.base.Utf8;
import dev.affinity.Outcome;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.hash.RendezvousHash;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/** JWT affinity; see {@link AffinityStrategy#jwt(JwtAffinity)}. */
final class JwtStrategy extends SnapshotStrategy {
  static final String NAME = "jwt";

  private static final Selection NO_TOKEN = Selection.abstain("no token");
  private static final String PINNED = "token names this backend";
  private static final String PINNED_DRAINING =
      "token names this backend, DRAINING, before its drain deadline";

  /** No source holds a token; never cached. */
  private static final Verified NO_TOKEN_FOUND = Verified.failure("no token");

  private static final Verified OVERSIZED = Verified.failure("longer than the limit");
  private static final Verified MALFORMED = Verified.failure("malformed");
  private static final Verified WRONG_ALGORITHM = Verified.failure("wrong algorithm");
  private static final Verified BAD_SIGNATURE = Verified.failure("bad signature");
  private static final Verified EXPIRED = Verified.failure("expired");
  private static final Verified NOT_YET_VALID = Verified.failure("not yet valid");
  private static final Verified ISSUED_LATER = Verified.failure("issued in the future");
  private static final Verified WRONG_ISSUER = Verified.failure("wrong issuer");
  private static final Verified WRONG_AUDIENCE = Verified.failure("wrong audience");
  private static final Verified NO_EXPIRY = Verified.failure("no exp claim");
  private static final Verified BAD_CLAIM =
      Verified.failure("a routing claim is not a string or number");
  private static final Verified INVALID = Verified.failure("rejected by the verifier");

  /** Characters a cached carrier may hold around its token ({@code "Bearer "} and a few blanks). */
  static final int CARRIER_SLACK = 16;

  private final JwtAffinity config;

  /** The verifier for the last clock a selector was built with; rebuilt only if it changes. */
  private volatile Clocked clocked;

  private final TokenSource[] sources;
  private final String[] claims;
  private final @Nullable String backendClaim;
  private final boolean reject;
  private final int maxLength;
  private final long leewayMillis;
  private final @Nullable TokenCache<Verified> cache;
  private final RendezvousStrategy rendezvous;
  private final LongAdder verifications = new LongAdder();

  JwtStrategy(JwtAffinity config) {
    this.config = config;
    this.sources = config.sources().toArray(new TokenSource[0]);
    this.claims = config.claims().toArray(new String[0]);
    this.backendClaim = config.backendClaim();
    this.reject = config.invalidTokenPolicy() == JwtAffinity.InvalidTokenPolicy.REJECT;
    this.maxLength = config.maxTokenLength();
    this.leewayMillis = config.leeway().toMillis();
    this.cache = config.cacheSize() == 0 ? null : new TokenCache<>(config.cacheSize());
    this.rendezvous = new RendezvousStrategy(NAME, new ClaimKey());
    // Built now so that a key the verifier refuses fails here, not on the first publish.
    InstantSource own = config.clock();
    this.clocked = new Clocked(own, verifierFor(own != null ? own : InstantSource.system()));
  }

  /** A verifier checking {@code exp}, {@code nbf} and {@code iat} on {@code clock}. */
  private JWTVerifier verifierFor(InstantSource clock) {
    Verification v = JWT.require(algorithm(config)).acceptLeeway(config.leeway().toSeconds());
    if (!config.issuers().isEmpty()) {
      v = v.withIssuer(config.issuers().toArray(new String[0]));
    }
    if (!config.audiences().isEmpty()) {
      v = v.withAnyOfAudience(config.audiences().toArray(new String[0]));
    }
    if (config.requireExpiry()) {
      v = v.withClaimPresence("exp");
    }
    for (String c : claims) {
      v = v.withClaimPresence(c);
    }
    if (backendClaim != null) {
      v = v.withClaimPresence(backendClaim);
    }
    // build(Clock) lives on the implementation type; java-jwt documents this cast for custom
    // clocks.
    return ((JWTVerifier.BaseVerification) v).build(clock.withZone(ZoneOffset.UTC));
  }

  /** The verifier on {@code clock}, reusing the last one built when the clock is the same. */
  private Clocked clocked(InstantSource clock) {
    Clocked c = clocked;
    if (c.clock != clock) {
      c = new Clocked(clock, verifierFor(clock));
      clocked = c;
    }
    return c;
  }

  /** A clock and the verifier that reads it. */
  private static final class Clocked {
    final @Nullable InstantSource clock;
    final JWTVerifier verifier;

    Clocked(@Nullable InstantSource clock, JWTVerifier verifier) {
      this.clock = clock;
      this.verifier = verifier;
    }
  }

  private static Algorithm algorithm(JwtAffinity config) {
    byte[] secret = config.secret();
    RSAPublicKey rsa =
        config.publicKey() instanceof RSAPublicKey ? (RSAPublicKey) config.publicKey() : null;
    ECPublicKey ec =
        config.publicKey() instanceof ECPublicKey ? (ECPublicKey) config.publicKey() : null;
    switch (config.algorithm()) {
      case HS256:
        return Algorithm.HMAC256(Objects.requireNonNull(secret));
      case HS384:
        return Algorithm.HMAC384(Objects.requireNonNull(secret));
      case HS512:
        return Algorithm.HMAC512(Objects.requireNonNull(secret));
      case RS256:
        return Algorithm.RSA256(rsa, null);
      case RS384:
        return Algorithm.RSA384(rsa, null);
      case RS512:
        return Algorithm.RSA512(rsa, null);
      case ES256:
        return Algorithm.ECDSA256(ec, null);
      case ES384:
        return Algorithm.ECDSA384(ec, null);
      case ES512:
      default:
        return Algorithm.ECDSA512(ec, null);
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  JwtSelector build(Membership membership, Selectors.@Nullable Snapshot previous) {
    Selectors.Snapshot inner =
        previous instanceof JwtSelector ? ((JwtSelector) previous).rendezvous : null;
    return new JwtSelector(
        rendezvous.build(membership, inner),
        clocked(GroupClock.of(config.clock(), membership, "JwtAffinity.clock")));
  }

  /**
   * One snapshot: verified claims hash to their rendezvous owner, or a claim names the backend.
   * Time is the group's clock.
   */
  final class JwtSelector implements Selectors.Snapshot {
    final RendezvousStrategy.RendezvousSelector rendezvous;
    private final InstantSource clock;
    private final JWTVerifier verifier;

    JwtSelector(RendezvousStrategy.RendezvousSelector rendezvous, Clocked clocked) {
      this.rendezvous = rendezvous;
      this.clock = requireNonNull(clocked.clock);
      this.verifier = clocked.verifier;
    }

    @Override
    public Membership membership() {
      return rendezvous.membership();
    }

    @Override
    public Selection select(RoutingRequest request) {
      long now = clock.millis();
      Verified v = verify(verifier, request, now);
      if (v == NO_TOKEN_FOUND) {
        return NO_TOKEN;
      }
      if (v.failure != null) {
        return reject ? requireNonNull(v.rejection) : requireNonNull(v.abstention);
      }
      String pinned = v.backendId;
      if (pinned == null) {
        return rendezvous.selectHash(v.keyHash);
      }
      Member m = membership().member(pinned);
      if (m == null) {
        String shown = pinned.length() > 64 ? pinned.substring(0, 64) + "..." : pinned;
        return Selection.affinityLost(
            "token names " + Keys.printable(shown) + ", which is not a member");
      }
      String refusal = Returning.refusal(m, now);
      if (refusal != null) {
        return Selection.affinityLost("token names " + pinned + ", " + refusal);
      }
      return Selection.chosen(
          m, Outcome.AFFINITY_HIT, m.state() == BackendState.DRAINING ? PINNED_DRAINING : PINNED);
    }

    @Override
    public boolean mayVeto() {
      return reject;
    }

    /** Under the reject policy, a present but invalid token is refused whoever decided. */
    @Override
    public @Nullable Selection veto(RoutingRequest request) {
      if (!reject) {
        return null;
      }
      Verified v = verify(verifier, request, clock.millis());
      return v == NO_TOKEN_FOUND || v.failure == null ? null : v.rejection;
    }

    /** The verified claims' owner, for selective re-homing; none in pinned mode. */
    @Override
    public @Nullable Member ownerOf(long keyHash) {
      return backendClaim == null ? rendezvous.ownerOf(keyHash) : null;
    }

    @Override
    public List<Member> failoverCandidates(
        Membership membership, long keyHash, Member chosen, int limit) {
      return rendezvous.failoverCandidates(membership, keyHash, chosen, limit);
    }

    @Override
    public @Nullable String describeKey(RoutingRequest request) {
      return backendClaim == null ? rendezvous.describeKey(request) : null;
    }
  }

  /**
   * The first configured source's token in the request, verified, or {@link #NO_TOKEN_FOUND}. A
   * cached token is found by its carrier (the whole header value, say), so the repeated-token path
   * neither copies the token out of the header nor allocates.
   */
  private Verified verify(JWTVerifier verifier, RoutingRequest request, long nowMillis) {
    for (int i = 0; i < sources.length; i++) {
      String carrier = sources[i].carrier(request);
      if (carrier != null) {
        return verify(verifier, i, carrier, nowMillis);
      }
    }
    return NO_TOKEN_FOUND;
  }

  /** A token verified as if it came from no source; for tests. */
  Verified verify(String token, InstantSource clock) {
    return verify(clocked(clock).verifier, -1, token, clock.millis());
  }

  /**
   * The verified token held by {@code carrier} of source {@code source} (-1: the carrier is the
   * token), from the cache while it is unexpired, or a failure.
   */
  private Verified verify(JWTVerifier verifier, int source, String carrier, long nowMillis) {
    TokenCache<Verified> c = cache;
    int hash = 0;
    if (c != null) {
      hash = TokenCache.hash(carrier);
      Verified hit = c.get(source, carrier, hash, nowMillis);
      if (hit != null) {
        return hit;
      }
    }
    return verifyAndCache(verifier, source, carrier, hash, nowMillis);
  }

  /**
   * The cache miss: extract, verify, cache if valid. A method of its own so that the hit path above
   * stays small enough to inline whatever the verifier's code is.
   */
  private Verified verifyAndCache(
      JWTVerifier verifier, int source, String carrier, int hash, long nowMillis) {
    TokenCache<Verified> c = cache;
    String token = source < 0 ? carrier : sources[source].tokenIn(carrier);
    if (token.length() > maxLength) {
      return OVERSIZED;
    }
    verifications.increment();
    Verified v;
    try {
      v = verified(verifier.verify(token));
    } catch (JWTVerificationException e) {
      return failure(e);
    }
    // The entry holds the carrier; padding around the token would let one entry hold a whole
    // header's worth of blanks, so such a carrier is verified every time instead.
    if (c != null && v.failure == null && carrier.length() - token.length() <= CARRIER_SLACK) {
      c.put(source, carrier, hash, v, v.expiresAtMillis + leewayMillis, nowMillis);
    }
    return v;
  }

  private Verified verified(DecodedJWT jwt) {
    Instant exp = jwt.getExpiresAtAsInstant();
    long expiresAt = exp == null ? Long.MAX_VALUE - leewayMillis : exp.toEpochMilli();
    if (backendClaim != null) {
      String id = text(jwt.getClaim(backendClaim));
      return id == null ? BAD_CLAIM : new Verified(0, id, expiresAt);
    }
    String key;
    if (claims.length == 1) {
      key = text(jwt.getClaim(claims[0]));
    } else {
      StringBuilder sb = new StringBuilder();
      for (String name : claims) {
        String value = text(jwt.getClaim(name));
        if (value == null) {
          return BAD_CLAIM;
        }
        int length;
        try {
          length = Utf8.encodedLength(value);
        } catch (IllegalArgumentException e) { // an unpaired surrogate: not UTF-8 text
          return BAD_CLAIM;
        }
        sb.append(length).append(':').append(value);
      }
      key = sb.toString();
    }
    return key == null ? BAD_CLAIM : new Verified(RendezvousHash.keyHash(key), null, expiresAt);
  }

  /** The claim as key text: a string as is, a whole number in decimal; otherwise null. */
  static @Nullable String text(Claim claim) {
    if (claim.isMissing() || claim.isNull()) {
      return null;
    }
    String s = claim.asString();
    if (s != null) {
      return s.isEmpty() ? null : s;
    }
    Double d = claim.asDouble();
    if (d != null && d == Math.rint(d) && !d.isInfinite() && Math.abs(d) < 0x1p53) {
      return Long.toString(d.longValue());
    }
    return null;
  }

  private static Verified failure(JWTVerificationException e) {
    if (e instanceof TokenExpiredException) {
      return EXPIRED;
    }
    if (e instanceof AlgorithmMismatchException) {
      return WRONG_ALGORITHM;
    }
    if (e instanceof SignatureVerificationException) {
      return BAD_SIGNATURE;
    }
    if (e instanceof JWTDecodeException) {
      return MALFORMED;
    }
    if (e instanceof MissingClaimException) {
      String claim = ((MissingClaimException) e).getClaimName();
      return "exp".equals(claim)
          ? NO_EXPIRY
          : Verified.failure("no " + Keys.printable(String.valueOf(claim)) + " claim");
    }
    if (e instanceof IncorrectClaimException) {
      String claim = ((IncorrectClaimException) e).getClaimName();
      if ("iss".equals(claim)) {
        return WRONG_ISSUER;
      }
      if ("aud".equals(claim)) {
        return WRONG_AUDIENCE;
      }
      if ("nbf".equals(claim)) {
        return NOT_YET_VALID;
      }
      if ("iat".equals(claim)) {
        return ISSUED_LATER;
      }
      if ("exp".equals(claim)) {
        return EXPIRED;
      }
    }
    return INVALID;
  }

  /** How many tokens were verified rather than served from the cache; for tests. */
  long verifications() {
    return verifications.sum();
  }

  @Override
  public String toString() {
    return "AffinityStrategy.jwt(" + config + ")";
  }

  /** A verified token's routing facts, or why it is invalid. */
  static final class Verified {
    final long keyHash;
    final @Nullable String backendId;
    final long expiresAtMillis;
    final @Nullable String failure;
    final @Nullable Selection rejection;
    final @Nullable Selection abstention;

    Verified(long keyHash, @Nullable String backendId, long expiresAtMillis) {
      this.keyHash = keyHash;
      this.backendId = backendId;
      this.expiresAtMillis = expiresAtMillis;
      this.failure = null;
      this.rejection = null;
      this.abstention = null;
    }

    private Verified(String failure) {
      this.keyHash = RoutingKey.ABSENT;
      this.backendId = null;
      this.expiresAtMillis = 0;
      this.failure = failure;
      String reason = "invalid token (" + failure + ")";
      this.rejection = Selection.reject(reason);
      this.abstention = Selection.abstain(reason);
    }

    static Verified failure(String why) {
      return new Verified(why);
    }
  }

  /** The verified claims as a rendezvous key; explanations show only the key's hash. */
  private final class ClaimKey implements RoutingKey {
    private final String name =
        (claims.length == 1 ? "JWT claim " : "JWT claims ") + String.join("+", claims);

    @Override
    public long hash(RoutingRequest request) {
      // Outside a selector (a direct rendezvous call): the clock of the last selector built.
      Clocked c = clocked;
      InstantSource clock = c.clock != null ? c.clock : InstantSource.system();
      Verified v = verify(c.verifier, request, clock.millis());
      return v.failure == null && v.backendId == null ? v.keyHash : ABSENT;
    }

    @Override
    public @Nullable String describe(RoutingRequest request) {
      long h = hash(request);
      return h == ABSENT ? null : name + " (hash " + Long.toHexString(h) + ")";
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public String toString() {
      return "RoutingKey{" + name + "}";
    }
  }
}

package dev.affinity.strategy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTCreator;
import com.auth0.jwt.algorithms.Algorithm;
import dev.affinity.AffinityConfigurationException;
import dev.affinity.Outcome;
import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.hash.RendezvousHash;
import dev.affinity.strategy.JwtAffinity.InvalidTokenPolicy;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class JwtStrategyTest {
  static final String ISSUER = "https://auth.example.com";
  static final String AUDIENCE = "chat";
  static final byte[] HS_SECRET = bytes(64, 3);
  static final byte[] OTHER_HS_SECRET = bytes(64, 4);

  /** Signing key and a second, unrelated signing key, per algorithm. */
  private static final Map<JwtAlgorithm, Algorithm[]> SIGNERS = new EnumMap<>(JwtAlgorithm.class);

  private static final Map<JwtAlgorithm, PublicKey> PUBLIC = new EnumMap<>(JwtAlgorithm.class);
  static final KeyPair RSA;

  static {
    try {
      KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
      rsa.initialize(2048);
      RSA = rsa.generateKeyPair();
      KeyPair otherRsa = rsa.generateKeyPair();
      Map<JwtAlgorithm, String> curves =
          Map.of(
              JwtAlgorithm.ES256, "secp256r1",
              JwtAlgorithm.ES384, "secp384r1",
              JwtAlgorithm.ES512, "secp521r1");
      for (JwtAlgorithm a : JwtAlgorithm.values()) {
        switch (a.family()) {
          case HMAC:
            SIGNERS.put(a, new Algorithm[] {hmac(a, HS_SECRET), hmac(a, OTHER_HS_SECRET)});
            break;
          case RSA:
            SIGNERS.put(a, new Algorithm[] {rsa(a, RSA), rsa(a, otherRsa)});
            PUBLIC.put(a, RSA.getPublic());
            break;
          case EC:
          default:
            KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
            ec.initialize(new ECGenParameterSpec(curves.get(a)));
            KeyPair mine = ec.generateKeyPair();
            SIGNERS.put(a, new Algorithm[] {ecdsa(a, mine), ecdsa(a, ec.generateKeyPair())});
            PUBLIC.put(a, mine.getPublic());
        }
      }
    } catch (GeneralSecurityException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final TestClock clock = new TestClock();
  private BackendGroup group;

  static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (seed * 17 + i * 13);
    }
    return b;
  }

  private static Algorithm hmac(JwtAlgorithm a, byte[] secret) {
    return a == JwtAlgorithm.HS256
        ? Algorithm.HMAC256(secret)
        : a == JwtAlgorithm.HS384 ? Algorithm.HMAC384(secret) : Algorithm.HMAC512(secret);
  }

  private static Algorithm rsa(JwtAlgorithm a, KeyPair kp) {
    RSAPublicKey pub = (RSAPublicKey) kp.getPublic();
    RSAPrivateKey priv = (RSAPrivateKey) kp.getPrivate();
    return a == JwtAlgorithm.RS256
        ? Algorithm.RSA256(pub, priv)
        : a == JwtAlgorithm.RS384 ? Algorithm.RSA384(pub, priv) : Algorithm.RSA512(pub, priv);
  }

  private static Algorithm ecdsa(JwtAlgorithm a, KeyPair kp) {
    ECPublicKey pub = (ECPublicKey) kp.getPublic();
    ECPrivateKey priv = (ECPrivateKey) kp.getPrivate();
    return a == JwtAlgorithm.ES256
        ? Algorithm.ECDSA256(pub, priv)
        : a == JwtAlgorithm.ES384 ? Algorithm.ECDSA384(pub, priv) : Algorithm.ECDSA512(pub, priv);
  }

  @BeforeEach
  void setUp() {
    group = BackendGroup.create(clock);
    for (int i = 1; i <= 5; i++) {
      group.add(Backend.of("ws-" + i, "10.0.0." + i, 8080));
    }
  }

  private JwtAffinity.Builder config(JwtAlgorithm a) {
    JwtAffinity.Builder b =
        a.family() == JwtAlgorithm.Family.HMAC
            ? JwtAffinity.builder(a, HS_SECRET)
            : JwtAffinity.builder(a, PUBLIC.get(a));
    return b.issuer(ISSUER).audience(AUDIENCE);
  }

  private JwtAffinity.Builder hs256() {
    return config(JwtAlgorithm.HS256);
  }

  private Router router(JwtAffinity config) {
    return Router.builder(group)
        .strategy(AffinityStrategy.jwt(config))
        .fallback(AffinityStrategy.roundRobin())
        .build();
  }

  /** A token valid for an hour from now, for {@code sub}. */
  private JWTCreator.Builder claims(String sub) {
    Instant now = clock.instant();
    return JWT.create()
        .withIssuer(ISSUER)
        .withAudience(AUDIENCE)
        .withSubject(sub)
        .withIssuedAt(now)
        .withExpiresAt(now.plus(Duration.ofHours(1)));
  }

  private String token(String sub) {
    return claims(sub).sign(SIGNERS.get(JwtAlgorithm.HS256)[0]);
  }

  private static RoutingRequest bearer(String token) {
    return RoutingRequest.builder().header("Authorization", "Bearer " + token).build();
  }

  private static String expectedOwner(String key) {
    return RendezvousHash.owner(key, List.of("ws-1", "ws-2", "ws-3", "ws-4", "ws-5"));
  }

  @ParameterizedTest
  @EnumSource(JwtAlgorithm.class)
  void eachAlgorithm_routesItsTokens_andRejectsAnotherKeysSignature(JwtAlgorithm a) {
    Router router = router(config(a).build());
    String good = claims("alice").sign(SIGNERS.get(a)[0]);
    RoutingDecision d = router.select(bearer(good));
    assertThat(d.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(d.strategy()).isEqualTo("jwt");
    assertThat(d.backend().id()).isEqualTo(expectedOwner("alice"));

    String forged = claims("alice").sign(SIGNERS.get(a)[1]);
    RoutingDecision f = router.select(bearer(forged));
    assertThat(f.outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(f.httpStatus()).isEqualTo(401);
    assertThat(f.reason()).isEqualTo("invalid token (bad signature)");
  }

  @ParameterizedTest
  @EnumSource(JwtAlgorithm.class)
  void eachAlgorithm_rejectsTokensSignedWithAnyOtherAlgorithm(JwtAlgorithm a) {
    Router router = router(config(a).build());
    for (JwtAlgorithm other : JwtAlgorithm.values()) {
      if (other != a) {
        String t = claims("alice").sign(SIGNERS.get(other)[0]);
        assertThat(router.select(bearer(t)).reason())
            .as("%s token against %s", other, a)
            .isEqualTo("invalid token (wrong algorithm)");
      }
    }
  }

  @Test
  void timeClaims_areCheckedWithLeeway_byTheInjectedClock() {
    Router router = router(hs256().leeway(Duration.ofSeconds(30)).cacheSize(0).build());
    String t = token("alice");
    clock.advance(Duration.ofHours(1).plusSeconds(20)); // within the leeway
    assertThat(router.select(bearer(t)).outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    clock.advance(Duration.ofSeconds(20));
    assertThat(router.select(bearer(t)).reason()).isEqualTo("invalid token (expired)");

    String later =
        claims("alice")
            .withNotBefore(clock.instant().plus(Duration.ofMinutes(5)))
            .sign(SIGNERS.get(JwtAlgorithm.HS256)[0]);
    assertThat(router.select(bearer(later)).reason()).isEqualTo("invalid token (not yet valid)");
    clock.advance(Duration.ofMinutes(5));
    assertThat(router.select(bearer(later)).outcome()).isEqualTo(Outcome.AFFINITY_HIT);
  }

  @Test
  void wrongIssuerOrAudience_isInvalid() {
    Router router = router(hs256().build());
    Algorithm hs = SIGNERS.get(JwtAlgorithm.HS256)[0];
    assertThat(router.select(bearer(claims("a").withIssuer("https://evil").sign(hs))).reason())
        .isEqualTo("invalid token (wrong issuer)");
    assertThat(router.select(bearer(claims("a").withAudience("admin").sign(hs))).reason())
        .isEqualTo("invalid token (wrong audience)");
    assertThat(
            router.select(bearer(claims("a").withAudience("admin", AUDIENCE).sign(hs))).outcome())
        .isEqualTo(Outcome.AFFINITY_HIT);
  }

  @Test
  void algNone_isRejected_signedByTheLibraryOrHandMade() {
    Router router = router(hs256().build());
    String byLibrary = claims("alice").sign(Algorithm.none());
    assertThat(router.select(bearer(byLibrary)).reason())
        .isEqualTo("invalid token (wrong algorithm)");

    String good = token("alice");
    String payload = good.split("\\.")[1];
    for (String alg : List.of("none", "None", "NONE")) {
      String header = b64("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}");
      for (String sig : List.of("", good.split("\\.")[2])) {
        String t = header + "." + payload + "." + sig;
        assertThat(router.select(bearer(t)).outcome()).as(t).isEqualTo(Outcome.REJECTED);
      }
    }
  }

  @Test
  void hmacSignedWithTheRsaPublicKey_isRejected_algorithmConfusion() {
    Router router = router(config(JwtAlgorithm.RS256).build());
    byte[] publicBytes = RSA.getPublic().getEncoded();
    String pem =
        "-----BEGIN PUBLIC KEY-----\n"
            + Base64.getMimeEncoder().encodeToString(publicBytes)
            + "\n-----END PUBLIC KEY-----\n";
    for (byte[] secret : List.of(publicBytes, pem.getBytes(StandardCharsets.US_ASCII))) {
      String confused = claims("alice").sign(Algorithm.HMAC256(secret));
      RoutingDecision d = router.select(bearer(confused));
      assertThat(d.outcome()).isEqualTo(Outcome.REJECTED);
      assertThat(d.reason()).isEqualTo("invalid token (wrong algorithm)");
    }

    // Nor can the confusion be configured.
    assertThatThrownBy(() -> JwtAffinity.builder(JwtAlgorithm.HS256, publicBytes))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("secret: an encoded public key (expected: a shared secret)");
    assertThatThrownBy(
            () -> JwtAffinity.builder(JwtAlgorithm.HS256, pem.getBytes(StandardCharsets.US_ASCII)))
        .hasMessage("secret: an encoded public key (expected: a shared secret)");
    assertThatThrownBy(() -> JwtAffinity.builder(JwtAlgorithm.HS256, RSA.getPublic()))
        .hasMessageStartingWith("publicKey: RSA public key (expected: a shared secret for HS256");
  }

  @Test
  void keysMustFitTheirAlgorithm() {
    assertThatThrownBy(
            () -> JwtAffinity.builder(JwtAlgorithm.RS256, PUBLIC.get(JwtAlgorithm.ES256)))
        .hasMessage("publicKey: EC public key (expected: an RSA key for RS256)");
    assertThatThrownBy(
            () -> JwtAffinity.builder(JwtAlgorithm.ES256, PUBLIC.get(JwtAlgorithm.ES384)))
        .hasMessage("publicKey: EC key on a 384-bit curve (expected: P-256 for ES256)");
    assertThatThrownBy(() -> JwtAffinity.builder(JwtAlgorithm.ES256, RSA.getPublic()))
        .hasMessage("publicKey: RSA public key (expected: an EC key for ES256)");
    assertThatThrownBy(() -> JwtAffinity.builder(JwtAlgorithm.HS512, bytes(32, 1)))
        .hasMessage("secret: 32 bytes (expected: at least 64 bytes for HS512)");
    assertThatThrownBy(() -> JwtAffinity.builder(JwtAlgorithm.RS256, bytes(64, 1)))
        .hasMessageStartingWith("algorithm: RS256 (expected: HS256, HS384 or HS512");
  }

  @Test
  void malformedOrOversizedTokens_areInvalid_oversizedOnesUnparsed() {
    JwtStrategy s = (JwtStrategy) AffinityStrategy.jwt(hs256().maxTokenLength(256).build());
    Router router =
        Router.builder(group).strategy(s).fallback(AffinityStrategy.roundRobin()).build();
    String good = token("alice");
    String[] parts = good.split("\\.");
    for (String bad :
        List.of(
            "not-a-jwt",
            "a.b",
            parts[0] + ".%%%." + parts[2],
            parts[0] + "." + parts[1] + "!" + "." + parts[2],
            "!!." + parts[1] + "." + parts[2],
            b64("{\"alg\":\"HS256\"") + "." + parts[1] + "." + parts[2],
            parts[0] + "." + b64("[1,2]") + "." + parts[2])) {
      assertThat(router.select(bearer(bad)).reason())
          .as(bad)
          .isEqualTo("invalid token (malformed)");
    }
    long before = s.verifications();
    String huge = good + "x".repeat(300);
    assertThat(router.select(bearer(huge)).reason())
        .isEqualTo("invalid token (longer than the limit)");
    assertThat(s.verifications()).isEqualTo(before);
  }

  @Test
  void eachSource_isRead_inTheConfiguredOrder() {
    Router router =
        router(
            hs256()
                .sources(
                    TokenSource.authorizationBearer(),
                    TokenSource.cookie("access_token"),
                    TokenSource.queryParameter("token"),
                    TokenSource.webSocketProtocol())
                .build());
    String t = token("alice");
    String owner = expectedOwner("alice");
    List<RoutingRequest> carriers =
        List.of(
            RoutingRequest.builder().header("authorization", "bearer   " + t).build(),
            RoutingRequest.builder().cookie("access_token", t).build(),
            RoutingRequest.builder().queryParameter("token", t).build(),
            RoutingRequest.builder()
                .header("Sec-WebSocket-Protocol", "chat.v2, bearer." + t)
                .build(),
            RoutingRequest.builder()
                .header("Sec-WebSocket-Protocol", "chat.v2")
                .header("Sec-WebSocket-Protocol", "bearer." + t + ",chat.v1")
                .build());
    for (RoutingRequest r : carriers) {
      RoutingDecision d = router.select(r);
      assertThat(d.outcome()).as("%s", r).isEqualTo(Outcome.AFFINITY_HIT);
      assertThat(d.backend().id()).isEqualTo(owner);
    }

    // The first source that holds a token decides, valid or not.
    RoutingRequest both =
        RoutingRequest.builder()
            .header("Authorization", "Bearer garbage")
            .cookie("access_token", t)
            .build();
    assertThat(router.select(both).reason()).isEqualTo("invalid token (malformed)");

    // Not a bearer header, no prefixed entry: no token.
    RoutingRequest none =
        RoutingRequest.builder()
            .header("Authorization", "Basic " + t)
            .header("Sec-WebSocket-Protocol", "chat.v2, bearer.")
            .build();
    assertThat(router.select(none).explanation()).startsWith("jwt abstained: no token");
  }

  @Test
  void onlyConfiguredSources_areRead() {
    Router router = router(hs256().sources(TokenSource.webSocketProtocol("jwt.")).build());
    String t = token("alice");
    assertThat(router.select(bearer(t)).explanation()).startsWith("jwt abstained: no token");
    assertThat(
            router
                .select(
                    RoutingRequest.builder().header("Sec-WebSocket-Protocol", "jwt." + t).build())
                .outcome())
        .isEqualTo(Outcome.AFFINITY_HIT);
  }

  @Test
  void compositeClaims_makeTheKey_andRefreshedTokensKeepTheirBackend() {
    Router router = router(hs256().claims("tenant", "sub").build());
    Algorithm hs = SIGNERS.get(JwtAlgorithm.HS256)[0];
    Set<String> used = new HashSet<>();
    for (int u = 0; u < 40; u++) {
      String sub = "user-" + u;
      String tenant = u % 2 == 0 ? "acme" : "globex";
      String first = claims(sub).withClaim("tenant", tenant).sign(hs);
      clock.advance(Duration.ofMinutes(10));
      String refreshed = claims(sub).withClaim("tenant", tenant).withJWTId("refresh-" + u).sign(hs);
      assertThat(refreshed).isNotEqualTo(first);
      RoutingDecision a = router.select(bearer(first));
      RoutingDecision b = router.select(bearer(refreshed));
      String key = tenant.length() + ":" + tenant + sub.length() + ":" + sub;
      assertThat(a.backend().id()).isEqualTo(expectedOwner(key));
      assertThat(b.backend()).isEqualTo(a.backend());
      used.add(a.backend().id());
    }
    assertThat(used).as("claims spread over backends").hasSizeGreaterThan(2);

    // Lengths are UTF-8 byte counts.
    String unicode = claims("zoë").withClaim("tenant", "ünï").sign(hs);
    assertThat(router.select(bearer(unicode)).backend().id())
        .isEqualTo(expectedOwner("5:ünï4:zoë"));

    // An escaped lone surrogate survives JSON decoding but is not UTF-8 text.
    String header = b64("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    String payload =
        b64(
            "{\"iss\":\""
                + ISSUER
                + "\",\"aud\":\""
                + AUDIENCE
                + "\",\"sub\":\"\\ud800\",\"tenant\":\"acme\",\"exp\":"
                + (clock.instant().getEpochSecond() + 600)
                + "}");
    String surrogate =
        header
            + "."
            + payload
            + "."
            + Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(
                    hs.sign(
                        header.getBytes(StandardCharsets.US_ASCII),
                        payload.getBytes(StandardCharsets.US_ASCII)));
    assertThat(router.select(bearer(surrogate)).reason())
        .isEqualTo("invalid token (a routing claim is not a string or number)");

    // Without the second claim the token cannot route: invalid.
    assertThat(router.select(bearer(token("alice"))).reason())
        .isEqualTo("invalid token (no tenant claim)");
    // A claim that is not text or a whole number cannot be a key.
    String objectClaim = claims("alice").withClaim("tenant", Map.of("id", "acme")).sign(hs);
    assertThat(router.select(bearer(objectClaim)).reason())
        .isEqualTo("invalid token (a routing claim is not a string or number)");
  }

  @Test
  void singleClaim_routesExactlyAsARendezvousKeyWithThatValue_numbersToo() {
    Router byJwt = router(hs256().claims("uid").build());
    AffinityStrategy byHeader = AffinityStrategy.rendezvous(RoutingKey.header("X-User"));
    Algorithm hs = SIGNERS.get(JwtAlgorithm.HS256)[0];
    for (int u = 0; u < 30; u++) {
      String t = claims("s").withClaim("uid", 1000L + u).sign(hs);
      RoutingDecision d = byJwt.select(bearer(t));
      Selection h =
          byHeader.select(
              RoutingRequest.builder().header("X-User", Long.toString(1000L + u)).build(),
              group.snapshot());
      assertThat(d.backend().id()).isEqualTo(h.member().id());
    }
  }

  @Test
  void invalidTokenPolicy_rejectAnswers401_abstainFallsThrough_noTokenAlwaysAbstains() {
    String forged = claims("alice").sign(SIGNERS.get(JwtAlgorithm.HS256)[1]);
    Router rejecting = router(hs256().invalidToken(InvalidTokenPolicy.REJECT).build());
    RoutingDecision r = rejecting.select(bearer(forged));
    assertThat(r.outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(r.hasBackend()).isFalse();
    assertThat(r.httpStatus()).isEqualTo(401);
    assertThat(r.explanation()).isEqualTo("REJECTED from jwt: invalid token (bad signature)");

    Router abstaining = router(hs256().invalidToken(InvalidTokenPolicy.ABSTAIN).build());
    RoutingDecision a = abstaining.select(bearer(forged));
    assertThat(a.outcome()).isEqualTo(Outcome.FIRST_ASSIGNMENT);
    assertThat(a.strategy()).isEqualTo("round-robin");
    assertThat(a.explanation()).startsWith("jwt abstained: invalid token (bad signature); ");

    for (Router router : List.of(rejecting, abstaining)) {
      RoutingDecision none = router.select(RoutingRequest.builder().build());
      assertThat(none.outcome()).isEqualTo(Outcome.FIRST_ASSIGNMENT);
      assertThat(none.explanation()).startsWith("jwt abstained: no token; ");
    }
  }

  @Test
  void pinnedRouting_validatesTheNamedBackendAgainstMembership() {
    Router router = router(hs256().backendClaim("backend").build());
    Algorithm hs = SIGNERS.get(JwtAlgorithm.HS256)[0];
    UnaryOperator<String> pinned = id -> claims("alice").withClaim("backend", id).sign(hs);

    RoutingDecision d = router.select(bearer(pinned.apply("ws-3")));
    assertThat(d.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(d.backend().id()).isEqualTo("ws-3");
    assertThat(d.reason()).isEqualTo("token names this backend");

    assertThat(router.select(bearer(pinned.apply("ws-\n9"))).explanation())
        .startsWith("jwt abstained: token names ws-?9, which is not a member");
    RoutingDecision unknown = router.select(bearer(pinned.apply("ws-9")));
    assertThat(unknown.outcome()).isEqualTo(Outcome.FAILOVER);
    assertThat(unknown.explanation())
        .startsWith("jwt abstained: token names ws-9, which is not a member");

    group.markDown("ws-3");
    RoutingDecision down = router.select(bearer(pinned.apply("ws-3")));
    assertThat(down.outcome()).isEqualTo(Outcome.FAILOVER);
    assertThat(down.backend().id()).isNotEqualTo("ws-3");
    assertThat(down.explanation()).startsWith("jwt abstained: token names ws-3, which is DOWN");

    group.markUp("ws-3");
    group.drain("ws-3", Duration.ofMinutes(1));
    assertThat(router.select(bearer(pinned.apply("ws-3"))).backend().id()).isEqualTo("ws-3");
    clock.advance(Duration.ofMinutes(1));
    String afterDeadline = pinned.apply("ws-3");
    assertThat(router.select(bearer(afterDeadline)).explanation())
        .contains("token names ws-3, which is DRAINING past its deadline");

    assertThat(router.select(bearer(token("alice"))).reason())
        .isEqualTo("invalid token (no backend claim)");
  }

  @Test
  void verifiedTokens_areCached_untilTheyExpire() {
    JwtStrategy s = (JwtStrategy) AffinityStrategy.jwt(hs256().leeway(Duration.ZERO).build());
    Router router =
        Router.builder(group).strategy(s).fallback(AffinityStrategy.roundRobin()).build();
    String t = token("alice");
    for (int i = 0; i < 10; i++) {
      assertThat(router.select(bearer(new String(t.toCharArray()))).outcome())
          .isEqualTo(Outcome.AFFINITY_HIT);
    }
    assertThat(s.verifications()).isEqualTo(1);

    clock.advance(Duration.ofHours(1).plusSeconds(1));
    assertThat(router.select(bearer(t)).reason()).isEqualTo("invalid token (expired)");
    assertThat(router.select(bearer(t)).reason()).isEqualTo("invalid token (expired)");

    JwtStrategy uncached = (JwtStrategy) AffinityStrategy.jwt(hs256().cacheSize(0).build());
    Router r2 =
        Router.builder(group).strategy(uncached).fallback(AffinityStrategy.roundRobin()).build();
    String t2 = token("bob");
    r2.select(bearer(t2));
    r2.select(bearer(t2));
    assertThat(uncached.verifications()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void cache_neverServesAVerifiedTokenForAnotherWithTheSameSignature() {
    JwtStrategy s = (JwtStrategy) AffinityStrategy.jwt(hs256().build());
    Router router =
        Router.builder(group).strategy(s).fallback(AffinityStrategy.roundRobin()).build();
    String good = token("alice");
    assertThat(router.select(bearer(good)).outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    String[] p = good.split("\\.");
    // Same signature (and so the same cache hash), another payload: must be verified, and fail.
    String swapped = p[0] + "." + b64("{\"sub\":\"mallory\"}") + "." + p[2];
    assertThat(TokenCache.hash("Bearer " + swapped)).isEqualTo(TokenCache.hash("Bearer " + good));
    assertThat(router.select(bearer(swapped)).reason()).isEqualTo("invalid token (bad signature)");
    assertThat(router.select(bearer(good)).outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(s.verifications()).isEqualTo(2);
  }

  @Test
  void cachedToken_isHonouredUntilExpiryPlusLeeway_byTheInjectedClock() {
    JwtStrategy s =
        (JwtStrategy) AffinityStrategy.jwt(hs256().leeway(Duration.ofSeconds(30)).build());
    Router router =
        Router.builder(group).strategy(s).fallback(AffinityStrategy.roundRobin()).build();
    String t = token("alice");
    assertThat(router.select(bearer(t)).outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    long verified = s.verifications();
    clock.advance(Duration.ofHours(1).plusSeconds(30)); // exp + leeway: still valid
    assertThat(router.select(bearer(t)).outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(s.verifications()).as("served from the cache").isEqualTo(verified);
    clock.advance(Duration.ofSeconds(1));
    assertThat(router.select(bearer(t)).reason()).isEqualTo("invalid token (expired)");
  }

  @Test
  void aTokenThatDiffersInOneCharacter_isVerified_notServedFromTheCache() {
    JwtStrategy s = (JwtStrategy) AffinityStrategy.jwt(hs256().build());
    Router router =
        Router.builder(group).strategy(s).fallback(AffinityStrategy.roundRobin()).build();
    String good = token("alice");
    assertThat(router.select(bearer(good)).outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    long verified = s.verifications();
    int last = good.length() - 1;
    for (int i : new int[] {0, good.indexOf('.') + 1, last}) {
      char[] chars = good.toCharArray();
      chars[i] = chars[i] == 'A' ? 'B' : 'A';
      String bad = new String(chars);
      assertThat(router.select(bearer(bad)).reason()).as("changed at %d", i).startsWith("invalid");
    }
    assertThat(s.verifications()).isEqualTo(verified + 3);
    assertThat(router.select(bearer(good)).outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(s.verifications()).isEqualTo(verified + 3);
  }

  @Test
  void aHeaderPaddedFarBeyondItsToken_isVerifiedEachTime_notCached() {
    JwtStrategy s = (JwtStrategy) AffinityStrategy.jwt(hs256().build());
    Router router =
        Router.builder(group).strategy(s).fallback(AffinityStrategy.roundRobin()).build();
    String t = token("alice");
    String padded = t + " ".repeat(JwtStrategy.CARRIER_SLACK);
    for (int i = 0; i < 3; i++) {
      assertThat(router.select(bearer(padded)).outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    }
    assertThat(s.verifications()).isGreaterThanOrEqualTo(3);
    long before = s.verifications();
    String slightlyPadded = t + " ".repeat(JwtStrategy.CARRIER_SLACK - 7);
    router.select(bearer(slightlyPadded));
    router.select(bearer(slightlyPadded));
    assertThat(s.verifications()).isEqualTo(before + 1);
  }

  @Test
  void bearerScheme_isMatchedWithoutCase_andTheTokenIsStripped() {
    JwtStrategy s = (JwtStrategy) AffinityStrategy.jwt(hs256().build());
    Router router =
        Router.builder(group).strategy(s).fallback(AffinityStrategy.roundRobin()).build();
    String t = token("alice");
    for (String value : List.of("Bearer " + t, "bearer " + t, "BEARER   " + t + "  ")) {
      RoutingRequest r = RoutingRequest.builder().header("AUTHORIZATION", value).build();
      assertThat(router.select(r).outcome())
          .as(value.substring(0, 10))
          .isEqualTo(Outcome.AFFINITY_HIT);
    }
    for (String value : List.of("Bearer ", "Bearer    ", "Basic " + t, "Bearer")) {
      RoutingRequest r = RoutingRequest.builder().header("Authorization", value).build();
      assertThat(router.select(r).reason()).as(value).isNotEqualTo("token names this backend");
      assertThat(router.select(r).strategy()).as(value).isNotEqualTo("jwt");
    }
  }

  @Test
  void cachedFailures_areNotRemembered_soAFixedClockCannotPoisonIt() {
    JwtStrategy s = (JwtStrategy) AffinityStrategy.jwt(hs256().build());
    String later =
        claims("alice")
            .withNotBefore(clock.instant().plus(Duration.ofMinutes(5)))
            .sign(SIGNERS.get(JwtAlgorithm.HS256)[0]);
    assertThat(s.verify(later, clock).failure).isEqualTo("not yet valid");
    clock.advance(Duration.ofMinutes(5));
    assertThat(s.verify(later, clock).failure).isNull();
  }

  @Test
  void expiryIsRequiredByDefault() {
    Algorithm hs = SIGNERS.get(JwtAlgorithm.HS256)[0];
    String noExp = JWT.create().withIssuer(ISSUER).withAudience(AUDIENCE).withSubject("a").sign(hs);
    assertThat(router(hs256().build()).select(bearer(noExp)).reason())
        .isEqualTo("invalid token (no exp claim)");
    assertThat(router(hs256().requireExpiry(false).build()).select(bearer(noExp)).outcome())
        .isEqualTo(Outcome.AFFINITY_HIT);
  }

  @Test
  void tokensNeverAppearInReasonsExplanationsOrToString() {
    Router router = router(hs256().invalidToken(InvalidTokenPolicy.ABSTAIN).build());
    String good = token("alice@example.com");
    String forged = claims("alice@example.com").sign(SIGNERS.get(JwtAlgorithm.HS256)[1]);
    List<RoutingDecision> decisions = new ArrayList<>();
    decisions.add(router.select(bearer(good)));
    decisions.add(router.select(bearer(forged)));
    for (RoutingDecision d : decisions) {
      for (String text : List.of(d.explanation(), d.reason(), d.toString())) {
        assertThat(text)
            .doesNotContain(good)
            .doesNotContain(forged)
            .doesNotContain(good.split("\\.")[1])
            .doesNotContain("alice@example.com");
      }
    }
    assertThat(decisions.get(0).explanation())
        .isEqualTo(
            "jwt chose "
                + expectedOwner("alice@example.com")
                + " (AFFINITY_HIT): owner of the key; key JWT claim sub (hash "
                + Long.toHexString(RendezvousHash.keyHash("alice@example.com"))
                + ")");
    String config = hs256().build().toString();
    assertThat(config)
        .startsWith("JwtAffinity{HS256 with a 64-byte secret, issuers=[" + ISSUER + "]")
        .doesNotContain(Base64.getEncoder().encodeToString(HS_SECRET));
  }

  @Test
  void builder_rejectsBadSettings_withFieldNamingMessages() {
    assertThatThrownBy(() -> hs256().claims())
        .hasMessage("claims: [] (expected: at least one value)");
    assertThatThrownBy(() -> hs256().claims("sub", "sub"))
        .hasMessage("claims: [sub, sub] (expected: each claim named once)");
    assertThatThrownBy(() -> hs256().issuer(""))
        .hasMessage("issuer: '' (expected: non-empty values)");
    assertThatThrownBy(() -> hs256().sources())
        .hasMessage("sources: [] (expected: at least one token source)");
    assertThatThrownBy(() -> hs256().leeway(Duration.ofHours(1)))
        .hasMessage("leeway: PT1H (expected: PT0S..PT10M)");
    assertThatThrownBy(() -> hs256().maxTokenLength(10))
        .hasMessage("maxTokenLength: 10 (expected: 64..65536)");
    assertThatThrownBy(() -> hs256().cacheSize(-1))
        .hasMessage("cacheSize: -1 (expected: 0..10000000)");
    assertThatThrownBy(() -> TokenSource.webSocketProtocol("a b"))
        .hasMessage("prefix: 'a b' (expected: RFC 7230 token characters)");
    assertThatThrownBy(() -> TokenSource.cookie(""))
        .hasMessage("name: '' (expected: a cookie name)");
  }

  private static String b64(String json) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }
}

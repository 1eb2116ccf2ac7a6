package dev.affinity.strategy;

import static org.assertj.core.api.Assertions.assertThat;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import dev.affinity.Outcome;
import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.hash.RendezvousHash;
import dev.affinity.strategy.JwtAffinity.InvalidTokenPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The fallback chain {@code cookie → JWT → source IP}, end to end through {@link Router#select}.
 */
class AffinityChainTest {
  private static final Algorithm SIGNER = Algorithm.HMAC256(JwtStrategyTest.HS_SECRET);
  private static final Algorithm FORGER = Algorithm.HMAC256(JwtStrategyTest.OTHER_HS_SECRET);
  private static final List<String> IDS = List.of("ws-1", "ws-2", "ws-3", "ws-4", "ws-5");

  private final TestClock clock = new TestClock();
  private BackendGroup group;

  @BeforeEach
  void setUp() {
    group = BackendGroup.create(clock);
    for (String id : IDS) {
      group.add(Backend.of(id, "10.0.0." + id.charAt(3), 8080));
    }
  }

  private Router router(InvalidTokenPolicy policy) {
    CookieAffinity cookies = CookieAffinity.builder(CookieKeys.of(CookieStrategyTest.K1)).build();
    JwtAffinity jwt =
        JwtAffinity.builder(JwtAlgorithm.HS256, JwtStrategyTest.HS_SECRET)
            .issuer(JwtStrategyTest.ISSUER)
            .sources(TokenSource.authorizationBearer(), TokenSource.webSocketProtocol())
            .invalidToken(policy)
            .build();
    return Router.builder(group)
        .strategy(AffinityStrategy.cookie(cookies))
        .strategy(AffinityStrategy.jwt(jwt))
        .fallback(AffinityStrategy.sourceIp())
        .build();
  }

  private String token(String sub, Algorithm signer) {
    Instant now = clock.instant();
    return JWT.create()
        .withIssuer(JwtStrategyTest.ISSUER)
        .withSubject(sub)
        .withExpiresAt(now.plus(Duration.ofHours(1)))
        .sign(signer);
  }

  private String ipOwner(String ip) {
    Selection s =
        AffinityStrategy.sourceIp()
            .select(RoutingRequest.builder().remoteAddress(ip, 40000).build(), group.snapshot());
    return s.member().id();
  }

  private static String subHash(String sub) {
    return Long.toHexString(RendezvousHash.keyHash(sub));
  }

  @Test
  void chain_cookieThenJwtThenSourceIp_explainsEveryStep() {
    Router router = router(InvalidTokenPolicy.ABSTAIN);

    // 1. Nothing but an address: source IP places the client, and the cookie strategy marks it.
    RoutingDecision byIp =
        router.select(RoutingRequest.builder().remoteAddress("203.0.113.7", 40000).build());
    String ipOwner = ipOwner("203.0.113.7");
    assertThat(byIp.backend().id()).isEqualTo(ipOwner);
    assertThat(byIp.explanation())
        .isEqualTo(
            "cookie abstained: no affinity cookie; jwt abstained: no token; source-ip chose "
                + ipOwner
                + " (AFFINITY_HIT): owner of the key; key client IP 203.0.113.7 from the TCP peer;"
                + " sets cookie AFFINITY");

    // 2. A browser with a token in the subprotocol list: the claim decides; a cookie is issued.
    String alice = token("alice", SIGNER);
    RoutingDecision byJwt =
        router.select(
            RoutingRequest.builder()
                .remoteAddress("203.0.113.7", 40001)
                .header("Sec-WebSocket-Protocol", "chat.v2, bearer." + alice)
                .build());
    String aliceOwner = RendezvousHash.owner("alice", IDS);
    assertThat(byJwt.backend().id()).isEqualTo(aliceOwner);
    assertThat(byJwt.explanation())
        .isEqualTo(
            "cookie abstained: no affinity cookie; jwt chose "
                + aliceOwner
                + " (AFFINITY_HIT): owner of the key; key JWT claim sub (hash "
                + subHash("alice")
                + "); sets cookie AFFINITY");

    // 3. She comes back from another network with her cookie: the cookie decides first.
    String cookie = byJwt.cookie().value();
    RoutingDecision byCookie =
        router.select(
            RoutingRequest.builder()
                .remoteAddress("198.51.100.20", 50000)
                .cookie("AFFINITY", cookie)
                .build());
    assertThat(byCookie.backend().id()).isEqualTo(aliceOwner);
    assertThat(byCookie.explanation())
        .isEqualTo("cookie chose " + aliceOwner + " (AFFINITY_HIT): valid affinity cookie");

    // 4. A forged cookie and a forged token fall all the way through to source IP.
    String forgedCookie =
        cookie.substring(0, 30) + (cookie.charAt(30) == 'A' ? 'B' : 'A') + cookie.substring(31);
    RoutingDecision fallthrough =
        router.select(
            RoutingRequest.builder()
                .remoteAddress("203.0.113.7", 40002)
                .cookie("AFFINITY", forgedCookie)
                .header("Authorization", "Bearer " + token("alice", FORGER))
                .build());
    assertThat(fallthrough.backend().id()).isEqualTo(ipOwner);
    assertThat(fallthrough.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(fallthrough.explanation())
        .isEqualTo(
            "cookie abstained: invalid affinity cookie (bad signature); jwt abstained: invalid"
                + " token (bad signature); source-ip chose "
                + ipOwner
                + " (AFFINITY_HIT): owner of the key; key client IP 203.0.113.7 from the TCP peer;"
                + " sets cookie AFFINITY");

    // 5. Her backend goes DOWN: the valid cookie is affinity lost, and the token re-places her as
    // a failover, with a new cookie.
    group.markDown(aliceOwner);
    RoutingDecision failover =
        router.select(
            RoutingRequest.builder()
                .remoteAddress("203.0.113.7", 40003)
                .cookie("AFFINITY", cookie)
                .header("Authorization", "Bearer " + alice)
                .build());
    List<String> rest = IDS.stream().filter(id -> !id.equals(aliceOwner)).toList();
    String next = RendezvousHash.owner("alice", rest);
    assertThat(failover.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(failover.backend().id()).isEqualTo(next);
    assertThat(failover.explanation())
        .isEqualTo(
            "cookie abstained: affinity cookie names "
                + aliceOwner
                + ", which is DOWN; jwt chose "
                + next
                + " (AFFINITY_HIT): owner of the key; key JWT claim sub (hash "
                + subHash("alice")
                + "); sets cookie AFFINITY");
    assertThat(failover.cookie().value()).isNotEqualTo(cookie);

    // 6. ... and that new cookie brings her back to the new backend.
    assertThat(
            router
                .select(
                    RoutingRequest.builder().cookie("AFFINITY", failover.cookie().value()).build())
                .backend()
                .id())
        .isEqualTo(next);
  }

  @Test
  void chain_cookieLostAndNoToken_failsOverToSourceIp() {
    Router router = router(InvalidTokenPolicy.ABSTAIN);
    RoutingDecision first =
        router.select(RoutingRequest.builder().remoteAddress("203.0.113.7", 40000).build());
    String owner = first.backend().id();
    group.remove(owner);
    RoutingDecision again =
        router.select(
            RoutingRequest.builder()
                .remoteAddress("203.0.113.7", 40000)
                .cookie("AFFINITY", first.cookie().value())
                .build());
    String next = ipOwner("203.0.113.7");
    assertThat(next).isNotEqualTo(owner);
    assertThat(again.outcome()).isEqualTo(Outcome.AFFINITY_HIT); // source IP's own outcome
    assertThat(again.explanation())
        .isEqualTo(
            "cookie abstained: affinity cookie names a backend that is no longer a member; jwt"
                + " abstained: no token; source-ip chose "
                + next
                + " (AFFINITY_HIT): owner of the key; key client IP 203.0.113.7 from the TCP peer;"
                + " sets cookie AFFINITY");
  }

  @Test
  void chain_rejectPolicy_endsTheChainWith401_beforeSourceIp() {
    Router router = router(InvalidTokenPolicy.REJECT);
    RoutingDecision d =
        router.select(
            RoutingRequest.builder()
                .remoteAddress("203.0.113.7", 40000)
                .header("Authorization", "Bearer " + token("alice", FORGER))
                .build());
    assertThat(d.outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(d.httpStatus()).isEqualTo(401);
    assertThat(d.cookie()).isNull();
    assertThat(d.explanation())
        .isEqualTo(
            "cookie abstained: no affinity cookie; REJECTED from jwt: invalid token (bad"
                + " signature)");
  }

  @Test
  void chain_rejectPolicy_validCookieDoesNotLetAnInvalidTokenThrough() {
    Router router = router(InvalidTokenPolicy.REJECT);
    RoutingDecision placed =
        router.select(RoutingRequest.builder().remoteAddress("203.0.113.7", 40000).build());
    String cookie = placed.cookie().value();

    RoutingDecision forged =
        router.select(
            RoutingRequest.builder()
                .cookie("AFFINITY", cookie)
                .header("Authorization", "Bearer " + token("alice", FORGER))
                .build());
    assertThat(forged.outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(forged.httpStatus()).isEqualTo(401);
    assertThat(forged.strategy()).isEqualTo("jwt");
    assertThat(forged.reason()).isEqualTo("invalid token (bad signature)");
    assertThat(forged.cookie()).isNull();
    // The cookie was valid: the token vetoed its choice, it did not fall through to the token.
    assertThat(forged.explanation()).doesNotContain("cookie abstained");

    String expiring = token("alice", SIGNER);
    clock.advance(Duration.ofHours(2));
    RoutingDecision expired =
        router.select(
            RoutingRequest.builder()
                .cookie("AFFINITY", cookie)
                .header("Authorization", "Bearer " + expiring)
                .build());
    assertThat(expired.outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(expired.reason()).isEqualTo("invalid token (expired)");
    assertThat(expired.explanation()).doesNotContain("cookie abstained");

    // A valid token, or none, leaves the cookie in charge.
    RoutingDecision valid =
        router.select(
            RoutingRequest.builder()
                .cookie("AFFINITY", cookie)
                .header("Authorization", "Bearer " + token("alice", SIGNER))
                .build());
    assertThat(valid.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(valid.strategy()).isEqualTo("cookie");
    assertThat(valid.backend()).isEqualTo(placed.backend());
    RoutingDecision none =
        router.select(RoutingRequest.builder().cookie("AFFINITY", cookie).build());
    assertThat(none.strategy()).isEqualTo("cookie");
  }

  @Test
  void chain_abstainPolicy_validCookieWinsOverAnInvalidToken() {
    Router router = router(InvalidTokenPolicy.ABSTAIN);
    RoutingDecision placed =
        router.select(RoutingRequest.builder().remoteAddress("203.0.113.7", 40000).build());
    RoutingDecision withCookie =
        router.select(
            RoutingRequest.builder()
                .cookie("AFFINITY", placed.cookie().value())
                .header("Authorization", "Bearer " + token("alice", FORGER))
                .build());
    assertThat(withCookie.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(withCookie.strategy()).isEqualTo("cookie");
  }
}

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
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The router reads one clock, the group's: with only {@code BackendGroup.create(clock)} given a
 * manual clock (no clock on the cookie or JWT configuration), cookie ages, token expiry and drain
 * deadlines all move with it.
 */
class OneClockTest {
  private final TestClock clock = new TestClock();
  private final BackendGroup group = BackendGroup.create(clock);

  private Router router() {
    for (int i = 1; i <= 3; i++) {
      group.add(Backend.of("ws-" + i, "10.0.0." + i, 8080));
    }
    CookieAffinity cookies =
        CookieAffinity.builder(CookieKeys.of(CookieStrategyTest.K1))
            .maxAge(Duration.ofHours(1))
            .build();
    JwtAffinity jwt =
        JwtAffinity.builder(JwtAlgorithm.HS256, JwtStrategyTest.HS_SECRET)
            .issuer(JwtStrategyTest.ISSUER)
            .build();
    return Router.builder(group)
        .strategy(AffinityStrategy.cookie(cookies))
        .strategy(AffinityStrategy.jwt(jwt))
        .fallback(AffinityStrategy.roundRobin())
        .build();
  }

  private static RoutingRequest withCookie(String value) {
    return RoutingRequest.builder().cookie(CookieAffinity.DEFAULT_NAME, value).build();
  }

  private static RoutingRequest withToken(String token) {
    return RoutingRequest.builder().header("Authorization", "Bearer " + token).build();
  }

  @Test
  void select_onlyTheGroupsClockInjected_expiresCookiesTokensAndDrainDeadlinesOnIt() {
    Router router = router();
    RoutingDecision a = router.select(RoutingRequest.builder().build());
    RoutingDecision b = router.select(RoutingRequest.builder().build());
    assertThat(a.backend()).isNotEqualTo(b.backend());
    String drainedCookie = a.cookie().value();
    String cookie = b.cookie().value();
    String token =
        JWT.create()
            .withIssuer(JwtStrategyTest.ISSUER)
            .withSubject("alice")
            .withExpiresAt(clock.instant().plus(Duration.ofMinutes(30)))
            .sign(Algorithm.HMAC256(JwtStrategyTest.HS_SECRET));
    group.drain(a.backend().id(), Duration.ofMinutes(10));

    // Before anything is due: all honoured, the drained backend before its deadline too.
    assertThat(router.select(withCookie(drainedCookie)).outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(router.select(withCookie(cookie)).outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(router.select(withToken(token)).strategy()).isEqualTo("jwt");

    // The drain deadline passes on the group's clock; the other cookie and the token still hold.
    clock.advance(Duration.ofMinutes(10).plusSeconds(1));
    RoutingDecision drained = router.select(withCookie(drainedCookie));
    assertThat(drained.strategy()).isNotEqualTo("cookie");
    assertThat(drained.explanation()).contains(Returning.DRAINED);
    assertThat(router.select(withCookie(cookie)).outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(router.select(withToken(token)).strategy()).isEqualTo("jwt");

    // The token expires (30 minutes plus the 30 s leeway) on the group's clock.
    clock.advance(Duration.ofMinutes(20).plus(JwtAffinity.DEFAULT_LEEWAY));
    RoutingDecision expired = router.select(withToken(token));
    assertThat(expired.outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(expired.explanation()).contains("invalid token (expired)");
    assertThat(router.select(withCookie(cookie)).outcome()).isEqualTo(Outcome.AFFINITY_HIT);

    // The cookie passes its one-hour max age on the group's clock.
    clock.advance(Duration.ofMinutes(30));
    RoutingDecision old = router.select(withCookie(cookie));
    assertThat(old.strategy()).isNotEqualTo("cookie");
    assertThat(old.explanation()).contains("(older than its max age)");
  }
}

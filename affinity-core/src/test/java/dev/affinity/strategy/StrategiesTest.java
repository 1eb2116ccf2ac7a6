package dev.affinity.strategy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.Outcome;
import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.backend.Member;
import dev.affinity.hash.RendezvousHash;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StrategiesTest {
  private static final RoutingRequest ANY = RoutingRequest.builder().build();

  private static BackendGroup weighted(int... weights) {
    BackendGroup g = BackendGroup.create();
    for (int i = 0; i < weights.length; i++) {
      g.add(Backend.of("b" + i, "10.0.0." + (i + 1), 8080).withWeight(weights[i]));
    }
    return g;
  }

  private static Map<String, Integer> tally(AffinityStrategy s, BackendGroup g, int picks) {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < picks; i++) {
      Member m = s.select(ANY, g.snapshot()).member();
      assertThat(m).isNotNull();
      counts.merge(m.id(), 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void roundRobin_followsWeightsExactlyPerCycle() {
    BackendGroup g = weighted(1, 2, 3);
    assertThat(tally(AffinityStrategy.roundRobin(), g, 600))
        .containsEntry("b0", 100)
        .containsEntry("b1", 200)
        .containsEntry("b2", 300);
  }

  @Test
  void roundRobin_isSmooth_noBackendTwiceInARowWithEqualWeights() {
    BackendGroup g = weighted(1, 1, 1);
    AffinityStrategy rr = AffinityStrategy.roundRobin();
    String previous = "";
    for (int i = 0; i < 30; i++) {
      String id = rr.select(ANY, g.snapshot()).member().id();
      assertThat(id).isNotEqualTo(previous);
      previous = id;
    }
  }

  @Test
  void leastConnections_picksFewestPerWeight() {
    BackendGroup g = weighted(1, 2);
    Router router = Router.builder(g).build();
    List<ConnectionLease> leases = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      leases.add(open(router.select(ANY)));
    }
    // Weight 2 carries twice the connections of weight 1.
    assertThat(g.liveConnections("b0")).isEqualTo(10);
    assertThat(g.liveConnections("b1")).isEqualTo(20);
    leases.forEach(ConnectionLease::close);
  }

  @Test
  void powerOfTwoChoices_keepsLoadsClose() {
    BackendGroup g = weighted(1, 1, 1, 1, 1, 1, 1, 1);
    Router router = Router.builder(g).fallback(AffinityStrategy.powerOfTwoChoices()).build();
    List<ConnectionLease> leases = new ArrayList<>();
    for (int i = 0; i < 800; i++) {
      leases.add(open(router.select(ANY)));
    }
    // With two choices the maximum load stays within ln ln n / ln 2 + O(1) of the mean (100);
    // random assignment would routinely exceed it by ~25.
    for (Member m : g.snapshot().members()) {
      assertThat(m.liveConnections()).isBetween(100 - 10, 100 + 10);
    }
    leases.forEach(ConnectionLease::close);
  }

  @Test
  void firstPickStrategies_neverChooseDrainingOrDown() {
    BackendGroup g = weighted(1, 1, 1);
    g.drain("b0");
    g.markDown("b1");
    for (AffinityStrategy s :
        List.of(
            AffinityStrategy.roundRobin(),
            AffinityStrategy.leastConnections(),
            AffinityStrategy.powerOfTwoChoices(),
            AffinityStrategy.sourceIp())) {
      assertThat(tally(s, g, 50)).containsOnlyKeys("b2");
    }
  }

  @Test
  void connectionCap_spillsToNextInKeyOrder() {
    BackendGroup g = BackendGroup.create();
    g.add(Backend.of("a", "10.0.0.1", 80).withMaxConnections(1));
    g.add(Backend.of("b", "10.0.0.2", 80).withMaxConnections(1));
    g.add(Backend.of("c", "10.0.0.3", 80).withMaxConnections(1));
    Router router =
        Router.builder(g).strategy(AffinityStrategy.rendezvous(RoutingKey.header("K"))).build();
    RoutingRequest request = RoutingRequest.builder().header("K", "hot").build();
    Set<String> used = new HashSet<>();
    List<Outcome> outcomes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      RoutingDecision d = router.select(request);
      outcomes.add(d.outcome());
      used.add(d.backend().id());
      d.openLease(d.backend(), reason -> {});
    }
    assertThat(used).containsExactlyInAnyOrder("a", "b", "c");
    assertThat(outcomes)
        .containsExactly(Outcome.AFFINITY_HIT, Outcome.SPILL_OVER, Outcome.SPILL_OVER);
    RoutingDecision full = router.select(request);
    assertThat(full.outcome()).isEqualTo(Outcome.NO_BACKEND);
    assertThat(full.explanation()).contains("every UP backend is at its cap");
  }

  @Test
  void boundedLoad_rejectsNonHashStrategyAndSmallFactor() {
    assertThatThrownBy(() -> AffinityStrategy.boundedLoad(AffinityStrategy.roundRobin(), 1.25))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage(
            "hashStrategy: round-robin (expected: a strategy from rendezvous(key), sourceIp(...),"
                + " maglev(key), rendezvousTable(key) or sourceIpTable(...))");
    assertThat(AffinityStrategy.boundedLoad(AffinityStrategy.maglev(RoutingKey.header("X")), 1.25))
        .hasToString(
            "AffinityStrategy.boundedLoad(AffinityStrategy.maglev(RoutingKey{header X}), 1.25)");
    assertThatThrownBy(() -> AffinityStrategy.boundedLoad(AffinityStrategy.sourceIp(), 0.9))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("factor: 0.9 (expected: 1.0..100.0)");
  }

  @Test
  void routingKeys_readTheirPlaces() {
    RoutingRequest r =
        RoutingRequest.builder()
            .path("/rooms/42/ws")
            .header("X-User", "alice")
            .queryParameter("room", "lobby")
            .cookie("SESSION", "s3cr3t")
            .build();
    assertThat(RoutingKey.pathSegment(1).describe(r)).isEqualTo("path segment 1=42");
    assertThat(RoutingKey.pathSegment(5).hash(r)).isEqualTo(RoutingKey.ABSENT);
    assertThat(RoutingKey.header("x-user").describe(r)).isEqualTo("header x-user=alice");
    assertThat(RoutingKey.queryParameter("room").hash(r))
        .isEqualTo(RendezvousHash.keyHash("lobby"));
    // Cookie values are secrets: only their hash is described.
    assertThat(RoutingKey.cookie("SESSION").describe(r))
        .isEqualTo(
            "cookie SESSION (hash " + Long.toHexString(RendezvousHash.keyHash("s3cr3t")) + ")")
        .doesNotContain("s3cr3t");
  }

  @Test
  void customKey_throwingExtractorIsAbsent() {
    RoutingKey k =
        RoutingKey.of(
            "custom",
            r -> {
              throw new IllegalStateException("bug");
            },
            true);
    assertThat(k.hash(ANY)).isEqualTo(RoutingKey.ABSENT);
    assertThat(k.describe(ANY)).isNull();
  }

  @Test
  void toString_readsLikeTheFactoryCall() {
    assertThat(AffinityStrategy.roundRobin()).hasToString("AffinityStrategy.roundRobin()");
    assertThat(AffinityStrategy.rendezvous(RoutingKey.header("X-User")))
        .hasToString("AffinityStrategy.rendezvous(RoutingKey{header X-User})");
  }

  private static ConnectionLease open(RoutingDecision d) {
    return d.openLease(d.backend(), reason -> {});
  }
}

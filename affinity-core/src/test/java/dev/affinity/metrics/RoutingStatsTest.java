package dev.affinity.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Outcome;
import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.RoutingKey;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class RoutingStatsTest {
  @Test
  void countsDecisionsByOutcome_connections_failures_transitions_andMembership() {
    BackendGroup group =
        BackendGroup.of(
            Backend.of("a", "10.0.0.1", 80).withMaxConnections(1), Backend.of("b", "10.0.0.2", 80));
    RoutingStats stats = RoutingStats.create();
    Router router =
        Router.builder(group)
            .strategy(AffinityStrategy.rendezvous(RoutingKey.header("X-Key")))
            .listener(stats)
            .build();
    // Find a key owned by a, fill a, then the same key spills to b.
    String keyOfA = null;
    for (int i = 0; keyOfA == null; i++) {
      if (router.select(req("k" + i)).backend().id().equals("a")) {
        keyOfA = "k" + i;
      }
    }
    long hitsSoFar = stats.decisions(Outcome.AFFINITY_HIT);
    RoutingDecision chosen = router.select(req(keyOfA));
    ConnectionLease lease = chosen.openLease(chosen.backend(), reason -> {});
    assertThat(router.select(req(keyOfA)).outcome()).isEqualTo(Outcome.SPILL_OVER);
    router.select(RoutingRequest.builder().build()); // no key: first assignment
    router.reportConnectFailure(group.snapshot().member("b").backend(), new IOException("reset"));
    group.markDown("a");
    group.markDown("b");
    router.select(req(keyOfA));

    assertThat(stats.decisions(Outcome.AFFINITY_HIT)).isEqualTo(hitsSoFar + 1);
    assertThat(stats.decisions(Outcome.SPILL_OVER)).isEqualTo(1);
    assertThat(stats.decisions(Outcome.FIRST_ASSIGNMENT)).isEqualTo(1);
    assertThat(stats.decisions(Outcome.NO_BACKEND)).isEqualTo(1);
    assertThat(stats.decisions()).isEqualTo(hitsSoFar + 4);
    assertThat(stats.connectionsOpened("a")).isEqualTo(1);
    assertThat(stats.connectFailures("b")).isEqualTo(1);
    assertThat(stats.connectFailures()).containsExactly(java.util.Map.entry("b", 1L));
    assertThat(stats.transitions(BackendState.UP, BackendState.DOWN)).isEqualTo(2);
    assertThat(stats.transitions(BackendState.DOWN, BackendState.UP)).isZero();
    assertThat(stats.membership()).isSameAs(group.snapshot());
    group.remove("b");
    assertThat(stats.transitions(BackendState.DOWN, null)).isEqualTo(1);
    lease.close();
    assertThat(stats.toString()).contains("SPILL_OVER=1");
  }

  private static RoutingRequest req(String key) {
    return RoutingRequest.builder().header("X-Key", key).build();
  }
}

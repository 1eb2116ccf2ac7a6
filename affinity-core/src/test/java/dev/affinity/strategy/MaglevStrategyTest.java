package dev.affinity.strategy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.Outcome;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MaglevStrategyTest {
  private static final RoutingKey KEY = RoutingKey.header("X-Key");

  private static RoutingRequest request(String key) {
    return RoutingRequest.builder().header("X-Key", key).build();
  }

  private static BackendGroup group(int n) {
    BackendGroup g = BackendGroup.create();
    for (int i = 0; i < n; i++) {
      g.add(Backend.of("b" + i, "10.0.0.1", 8080 + i).withMaxConnections(1));
    }
    return g;
  }

  @Test
  void select_downAndDrainingBackends_getNoNewKeys() {
    BackendGroup g = group(5);
    g.markDown("b1");
    g.drain("b3");
    AffinityStrategy s = AffinityStrategy.maglev(KEY);
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 500; i++) {
      Selection sel = s.select(request("k" + i), g.snapshot());
      assertThat(sel.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
      seen.add(sel.member().id());
    }
    assertThat(seen).containsExactlyInAnyOrder("b0", "b2", "b4");
  }

  @Test
  void select_ownerAtCap_spillsToTheFirstRendezvousCandidateWithRoom() {
    BackendGroup g = group(4);
    AffinityStrategy s = AffinityStrategy.maglev(KEY);
    Member owner = s.select(request("alice"), g.snapshot()).member();
    try (ConnectionLease lease = g.openConnection(owner.backend())) {
      Membership m = g.snapshot();
      Selection spilled = s.select(request("alice"), m);
      assertThat(spilled.outcome()).isEqualTo(Outcome.SPILL_OVER);
      assertThat(spilled.member().id()).isNotEqualTo(owner.id());
      List<Member> failover =
          ((SnapshotStrategy) s).failoverCandidates(request("alice"), m, spilled.member(), 3);
      // Deterministic, without the chosen or the full member, in the key's rendezvous order.
      assertThat(failover)
          .extracting(Member::id)
          .doesNotContain(owner.id(), spilled.member().id())
          .hasSize(2)
          .isEqualTo(
              ((SnapshotStrategy) s)
                  .failoverCandidates(request("alice"), m, spilled.member(), 3).stream()
                      .map(Member::id)
                      .toList());
      assertThat(lease.backend()).isEqualTo(owner.backend());
    }
  }

  @Test
  void select_everyBackendFull_abstains() {
    BackendGroup g = group(2);
    List<ConnectionLease> leases =
        List.of(
            g.openConnection(g.snapshot().member("b0").backend()),
            g.openConnection(g.snapshot().member("b1").backend()));
    Selection sel = AffinityStrategy.maglev(KEY).select(request("x"), g.snapshot());
    assertThat(sel.kind()).isEqualTo(Selection.Kind.ABSTAIN);
    assertThat(sel.reason()).contains("cap");
    leases.forEach(ConnectionLease::close);
  }

  @Test
  void select_noUpBackendOrNoKey_abstains() {
    AffinityStrategy s = AffinityStrategy.maglev(KEY);
    assertThat(s.select(request("x"), Membership.empty()).reason()).isEqualTo("no backend is UP");
    assertThat(s.select(RoutingRequest.builder().build(), group(2).snapshot()).reason())
        .isEqualTo("no key in the request");
  }

  @Test
  void select_tableIsRebuiltOncePerSnapshot() {
    BackendGroup g = group(3);
    MaglevStrategy s = (MaglevStrategy) AffinityStrategy.maglev(KEY);
    MaglevStrategy.Table t = s.table(g.snapshot());
    assertThat(s.table(g.snapshot())).isSameAs(t);
    g.add(Backend.of("b9", "10.0.0.9", 80));
    assertThat(s.table(g.snapshot())).isNotSameAs(t);
  }

  @Test
  void maglev_tableSizeMustBeAPrimeInRange() {
    assertThatThrownBy(() -> AffinityStrategy.maglev(KEY, 65_536))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("tableSize: 65536 (expected: a prime from 1009 to 16777259)");
    assertThatThrownBy(() -> AffinityStrategy.maglev(KEY, 1_000_003 * 17))
        .isInstanceOf(AffinityConfigurationException.class);
    assertThat(AffinityStrategy.maglev(KEY, 655_373).toString())
        .isEqualTo("AffinityStrategy.maglev(RoutingKey{header X-Key}, 655373)");
    assertThat(AffinityStrategy.maglev(KEY).toString())
        .isEqualTo("AffinityStrategy.maglev(RoutingKey{header X-Key})");
  }
}

package dev.affinity.strategy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.Outcome;
import dev.affinity.Router;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.hash.RendezvousHash;
import dev.affinity.hash.RendezvousTable;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RendezvousTableStrategyTest {
  private static final RoutingKey KEY = RoutingKey.header("X-Key");
  private static final int M = 1 << 12;

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

  private static Map<String, String> owners(AffinityStrategy s, Membership m, int keys) {
    Map<String, String> out = new HashMap<>();
    for (int i = 0; i < keys; i++) {
      Member owner = s.select(request("k" + i), m).member();
      assertThat(owner).isNotNull();
      out.put("k" + i, owner.id());
    }
    return out;
  }

  @Test
  void select_ownerIsTheBucketsWeightedRendezvousWinner() {
    BackendGroup g = BackendGroup.create();
    g.add(Backend.of("ws-1", "10.0.0.1", 80));
    g.add(Backend.of("ws-2", "10.0.0.2", 80).withWeight(2));
    g.add(Backend.of("ws-3", "10.0.0.3", 80).withWeight(5));
    AffinityStrategy s = AffinityStrategy.rendezvousTable(KEY, M);
    String[] ids = {"ws-1", "ws-2", "ws-3"};
    double[] weights = {1, 2, 5};
    for (int i = 0; i < 2000; i++) {
      String key = "user-" + i;
      Selection sel = s.select(request(key), g.snapshot());
      int bucket = RendezvousTable.bucket(RendezvousHash.keyHash(key), M);
      assertThat(sel.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
      assertThat(sel.member().id()).isEqualTo(RendezvousTable.referenceOwner(bucket, ids, weights));
      assertThat(
              ((SnapshotStrategy) s).selectorFor(g.snapshot()).ownerOf(RendezvousHash.keyHash(key)))
          .isSameAs(sel.member());
    }
  }

  @Test
  void select_backendRemoved_movesOnlyItsKeys() {
    BackendGroup g = group(20);
    AffinityStrategy s = AffinityStrategy.rendezvousTable(KEY, M);
    Map<String, String> before = owners(s, g.snapshot(), 5000);
    g.remove("b7");
    Map<String, String> after = owners(s, g.snapshot(), 5000);
    int moved = 0;
    for (String k : before.keySet()) {
      if (!before.get(k).equals(after.get(k))) {
        assertThat(before.get(k)).isEqualTo("b7");
        moved++;
      }
    }
    assertThat(moved).isEqualTo(before.values().stream().filter("b7"::equals).count());
  }

  @Test
  void select_backendDownThenUp_movesItsKeysAwayAndBackExactly() {
    BackendGroup g = group(12);
    AffinityStrategy s = AffinityStrategy.rendezvousTable(KEY, M);
    Map<String, String> before = owners(s, g.snapshot(), 3000);
    g.markDown("b3");
    Map<String, String> down = owners(s, g.snapshot(), 3000);
    g.markUp("b3");
    Map<String, String> up = owners(s, g.snapshot(), 3000);
    assertThat(up).isEqualTo(before);
    for (String k : before.keySet()) {
      assertThat(down.get(k).equals(before.get(k)) || before.get(k).equals("b3")).isTrue();
      assertThat(down.get(k)).isNotEqualTo("b3");
    }
  }

  @Test
  void select_backendAdded_movesKeysOnlyToIt() {
    BackendGroup g = group(9);
    AffinityStrategy s = AffinityStrategy.rendezvousTable(KEY, M);
    Map<String, String> before = owners(s, g.snapshot(), 3000);
    g.add(Backend.of("b-new", "10.0.0.9", 80));
    Map<String, String> after = owners(s, g.snapshot(), 3000);
    Set<String> movedTo = new HashSet<>();
    for (String k : before.keySet()) {
      if (!before.get(k).equals(after.get(k))) {
        movedTo.add(after.get(k));
      }
    }
    assertThat(movedTo).containsExactly("b-new");
  }

  @Test
  void select_sameMembersAnyOrder_sameOwnersAcrossInstances() {
    BackendGroup a = BackendGroup.create();
    BackendGroup b = BackendGroup.create();
    List<Backend> backends = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      backends.add(Backend.of("node-" + i, "10.0.1." + i, 80).withWeight(1 + i % 3));
    }
    backends.forEach(a::add);
    for (int i = backends.size() - 1; i >= 0; i--) {
      b.add(backends.get(i));
    }
    assertThat(owners(AffinityStrategy.rendezvousTable(KEY, M), a.snapshot(), 2000))
        .isEqualTo(owners(AffinityStrategy.rendezvousTable(KEY, M), b.snapshot(), 2000));
  }

  @Test
  void routerFingerprint_coversTheBucketCount_andTheMembership() {
    // Two instances built alike (members added in another order) agree; another M or another
    // member makes the fingerprint differ, though the membership fingerprint alone cannot tell M.
    BackendGroup a = group(3);
    BackendGroup b = BackendGroup.create();
    for (int i = 2; i >= 0; i--) {
      b.add(Backend.of("b" + i, "10.0.0.1", 8080 + i).withMaxConnections(1));
    }
    Router ra = Router.builder(a).fallback(AffinityStrategy.rendezvousTable(KEY, M)).build();
    Router rb = Router.builder(b).fallback(AffinityStrategy.rendezvousTable(KEY, M)).build();
    Router otherM =
        Router.builder(b).fallback(AffinityStrategy.rendezvousTable(KEY, 2 * M)).build();
    Router maglev = Router.builder(b).fallback(AffinityStrategy.maglev(KEY)).build();

    assertThat(ra.fingerprint()).hasSize(16).isEqualTo(rb.fingerprint());
    assertThat(otherM.membershipFingerprint()).isEqualTo(ra.membershipFingerprint());
    assertThat(otherM.fingerprint()).isNotEqualTo(ra.fingerprint());
    assertThat(maglev.fingerprint()).isNotIn(ra.fingerprint(), otherM.fingerprint());
    assertThat(AffinityStrategy.rendezvousTable(KEY, M).decisionParameters())
        .isEqualTo("rendezvous-table buckets=" + M);
    assertThat(
            AffinityStrategy.boundedLoad(AffinityStrategy.rendezvousTable(KEY, M), 1.25)
                .decisionParameters())
        .isEqualTo("bounded-load(rendezvous-table buckets=" + M + ", factor=1.25)");

    String before = ra.fingerprint();
    a.add(Backend.of("b9", "10.0.0.1", 9000));
    assertThat(ra.fingerprint()).isNotEqualTo(before).isNotEqualTo(rb.fingerprint());
  }

  @Test
  void select_ownerAtCap_spillsAlongTheBucketsRendezvousOrder() {
    BackendGroup g = group(5);
    RendezvousTableStrategy s = (RendezvousTableStrategy) AffinityStrategy.rendezvousTable(KEY, M);
    Member owner = s.select(request("alice"), g.snapshot()).member();
    try (ConnectionLease lease = g.openConnection(owner.backend())) {
      Membership m = g.snapshot();
      Selection spilled = s.select(request("alice"), m);
      assertThat(spilled.outcome()).isEqualTo(Outcome.SPILL_OVER);
      RendezvousTable t = s.snapshot(m).table;
      int[] order = t.order(RendezvousTable.bucket(RendezvousHash.keyHash("alice"), M));
      assertThat(t.slotId(order[0])).isEqualTo(owner.id());
      assertThat(spilled.member().id()).isEqualTo(t.slotId(order[1]));
      List<Member> failover = s.failoverCandidates(request("alice"), m, spilled.member(), 2);
      assertThat(failover)
          .extracting(Member::id)
          .containsExactly(t.slotId(order[2]), t.slotId(order[3]));
      assertThat(lease.backend()).isEqualTo(owner.backend());
    }
  }

  @Test
  void boundedLoad_overTheTable_spillsAlongTheBucketsRendezvousOrder() {
    BackendGroup g = BackendGroup.create();
    for (int i = 0; i < 4; i++) {
      g.add(Backend.of("b" + i, "10.0.0.1", 8080 + i));
    }
    RendezvousTableStrategy table =
        (RendezvousTableStrategy) AffinityStrategy.rendezvousTable(KEY, M);
    AffinityStrategy bounded = AffinityStrategy.boundedLoad(table, 1.0);
    Selection first = bounded.select(request("alice"), g.snapshot());
    Member owner = table.select(request("alice"), g.snapshot()).member();
    assertThat(first.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(first.member()).isSameAs(owner);
    // Two live on the owner, none elsewhere: the bound after placing is ceil(1.0 × 3 / 4) = 1.
    List<ConnectionLease> leases =
        List.of(g.openConnection(owner.backend()), g.openConnection(owner.backend()));
    Membership m = g.snapshot();
    Selection spilled = bounded.select(request("alice"), m);
    int[] order =
        table.snapshot(m).table.order(RendezvousTable.bucket(RendezvousHash.keyHash("alice"), M));
    assertThat(spilled.outcome()).isEqualTo(Outcome.SPILL_OVER);
    assertThat(spilled.member().id()).isEqualTo(table.snapshot(m).table.slotId(order[1]));
    assertThat(bounded.name()).isEqualTo("bounded-load(rendezvous-table)");
    assertThat(((SnapshotStrategy) bounded).selectorFor(m).ownerOf(RendezvousHash.keyHash("alice")))
        .isSameAs(m.member(owner.id()));
    leases.forEach(ConnectionLease::close);
  }

  @Test
  void select_everyBackendFullOrNoneUpOrNoKey_abstains() {
    BackendGroup g = group(2);
    List<ConnectionLease> leases =
        List.of(
            g.openConnection(g.snapshot().member("b0").backend()),
            g.openConnection(g.snapshot().member("b1").backend()));
    AffinityStrategy s = AffinityStrategy.rendezvousTable(KEY, M);
    assertThat(s.select(request("x"), g.snapshot()).reason()).contains("cap");
    leases.forEach(ConnectionLease::close);
    assertThat(s.select(request("x"), Membership.empty()).reason()).isEqualTo("no backend is UP");
    assertThat(s.select(RoutingRequest.builder().build(), g.snapshot()).reason())
        .isEqualTo("no key in the request");
  }

  @Test
  void select_tableIsDerivedOncePerSnapshot() {
    BackendGroup g = group(3);
    RendezvousTableStrategy s = (RendezvousTableStrategy) AffinityStrategy.rendezvousTable(KEY, M);
    RendezvousTableStrategy.Snapshot first = s.snapshot(g.snapshot());
    assertThat(s.snapshot(g.snapshot())).isSameAs(first);
    g.add(Backend.of("b9", "10.0.0.9", 80));
    assertThat(s.snapshot(g.snapshot())).isNotSameAs(first);
  }

  @Test
  void sourceIpTable_hashesTheClientAddress() {
    BackendGroup g = group(8);
    AffinityStrategy s =
        AffinityStrategy.sourceIpTable(dev.affinity.client.ClientAddressResolver.direct(), M);
    RoutingRequest r =
        RoutingRequest.builder().remoteAddress(new InetSocketAddress("203.0.113.7", 5000)).build();
    long keyHash = RendezvousHash.keyHash(new byte[] {(byte) 203, 0, 113, 7});
    int bucket = RendezvousTable.bucket(keyHash, M);
    String[] ids = {"b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7"};
    double[] w = {1, 1, 1, 1, 1, 1, 1, 1};
    assertThat(s.select(r, g.snapshot()).member().id())
        .isEqualTo(RendezvousTable.referenceOwner(bucket, ids, w));
    assertThat(s.name()).isEqualTo("source-ip-table");
  }

  @Test
  void rendezvousTable_bucketsMustBeAPowerOfTwoInRange() {
    assertThatThrownBy(() -> AffinityStrategy.rendezvousTable(KEY, 3000))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("buckets: 3000 (expected: a power of two from 256 to 67108864)");
    assertThatThrownBy(() -> AffinityStrategy.rendezvousTable(KEY, 128))
        .isInstanceOf(AffinityConfigurationException.class);
    assertThatThrownBy(() -> AffinityStrategy.rendezvousTable(KEY, 1 << 27))
        .isInstanceOf(AffinityConfigurationException.class);
    assertThat(AffinityStrategy.rendezvousTable(KEY, 1024).toString())
        .isEqualTo("AffinityStrategy.rendezvousTable(RoutingKey{header X-Key}, 1024)");
    assertThat(AffinityStrategy.rendezvousTable(KEY).toString())
        .isEqualTo("AffinityStrategy.rendezvousTable(RoutingKey{header X-Key})");
    assertThat(AffinityStrategy.rendezvousTable(KEY).name()).isEqualTo("rendezvous-table");
  }
}

package dev.affinity.hash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Golden vectors of the pinned table (also in {@code docs/hashing.md}) and argument checks. */
class RendezvousTableTest {
  private static final int M = RendezvousTable.DEFAULT_BUCKETS;
  private static final String[] WS = {"ws-1", "ws-2", "ws-3"};
  private static final String[] NATO = {"alpha", "bravo", "charlie", "delta", "echo"};

  private static String owner(RendezvousTable t, String key) {
    return t.ownerId(RendezvousHash.keyHash(key));
  }

  @Test
  void goldenVectors_defaultBuckets() {
    RendezvousTable ws = RendezvousTable.build(M, WS, new double[] {1, 1, 1});
    RendezvousTable nato = RendezvousTable.build(M, NATO, new double[] {1, 1, 1, 1, 1});
    RendezvousTable weighted = RendezvousTable.build(M, WS, new double[] {1, 2, 5});
    String[][] golden = {
      // key, bucket, owner of ws-1..3, owner of alpha..echo, owner of ws-1..3 weighted 1, 2, 5
      {"", "0", "ws-3", "bravo", "ws-3"},
      {"alice", "1250403", "ws-2", "charlie", "ws-2"},
      {"bob", "2758366", "ws-1", "alpha", "ws-3"},
      {"203.0.113.7", "2605592", "ws-2", "charlie", "ws-3"},
      {"user:42", "3271080", "ws-3", "alpha", "ws-3"},
      {"tenant-a/sub-9", "3402820", "ws-3", "echo", "ws-3"},
      {"Zürich", "678486", "ws-1", "charlie", "ws-3"},
    };
    for (String[] g : golden) {
      assertThat(RendezvousTable.bucket(RendezvousHash.keyHash(g[0]), M))
          .as(g[0])
          .isEqualTo(Integer.parseInt(g[1]));
      assertThat(owner(ws, g[0])).as(g[0]).isEqualTo(g[2]);
      assertThat(owner(nato, g[0])).as(g[0]).isEqualTo(g[3]);
      assertThat(owner(weighted, g[0])).as(g[0]).isEqualTo(g[4]);
    }
    StringBuilder first = new StringBuilder();
    for (int b = 0; b < 8; b++) {
      first.append(ws.slotId(ws.owner(b))).append(' ');
    }
    assertThat(first.toString().trim()).isEqualTo("ws-3 ws-1 ws-3 ws-1 ws-2 ws-2 ws-2 ws-2");
    assertThat(counts(ws)).containsExactly(1398636, 1398635, 1397033);
    assertThat(counts(weighted)).containsExactly(524516, 1050197, 2619591);
  }

  private static int[] counts(RendezvousTable t) {
    int[] c = new int[t.size()];
    for (int b = 0; b < t.buckets(); b++) {
      c[java.util.Arrays.asList(WS).indexOf(t.slotId(t.owner(b)))]++;
    }
    return c;
  }

  @Test
  void ownerBytes_smallestIntegerTypeForTheSlots() {
    assertThat(RendezvousTable.build(1024, WS, new double[] {1, 1, 1}).ownerBytes())
        .isEqualTo(1024);
    assertThat(build(256, 1024).ownerBytes()).isEqualTo(1024);
    assertThat(build(257, 1024).ownerBytes()).isEqualTo(2048);
    assertThat(build(65_536, 256).ownerBytes()).isEqualTo(512);
    assertThat(build(65_537, 256).ownerBytes()).isEqualTo(1024);
    assertThat(RendezvousTable.empty(1024).ownerBytes()).isZero();
  }

  @Test
  void update_growingPast256Members_widensAndKeepsOwners() {
    RendezvousTable small = build(256, 1024);
    String[] ids = ids(257);
    double[] w = new double[257];
    java.util.Arrays.fill(w, 1);
    RendezvousTable grown = small.update(ids, w);
    RendezvousTable fresh = RendezvousTable.build(1024, ids, w);
    for (int b = 0; b < 1024; b++) {
      assertThat(grown.slotId(grown.owner(b))).isEqualTo(fresh.slotId(fresh.owner(b)));
    }
    assertThat(grown.ownerBytes()).isEqualTo(2048);
  }

  /**
   * The removal and weight-decrease paths find the changed member's buckets with a loop per owner
   * width: with 300 members (two-byte owners), one and two members changed at once, the update
   * equals a table built from scratch.
   */
  @Test
  void update_shortOwners_removalsAndWeightDecreasesEqualFreshBuild() {
    String[] ids = ids(300);
    double[] w = new double[300];
    java.util.Arrays.fill(w, 2);
    RendezvousTable base = RendezvousTable.build(1024, ids, w);
    assertThat(base.ownerBytes()).isEqualTo(2048);
    String[] fewer = new String[298];
    double[] fewerW = new double[298];
    for (int i = 0, j = 0; i < 300; i++) {
      if (i != 17 && i != 230) {
        fewer[j] = ids[i];
        fewerW[j++] = 2;
      }
    }
    double[] lighter = w.clone();
    lighter[150] = 1;
    double[] twoLighter = lighter.clone();
    twoLighter[299] = 1;
    String[] oneFewer = java.util.Arrays.copyOf(ids, 299);
    double[] oneFewerW = java.util.Arrays.copyOf(w, 299);
    assertSameOwners(
        base.update(oneFewer, oneFewerW), RendezvousTable.build(1024, oneFewer, oneFewerW));
    assertSameOwners(base.update(fewer, fewerW), RendezvousTable.build(1024, fewer, fewerW));
    assertSameOwners(base.update(ids, lighter), RendezvousTable.build(1024, ids, lighter));
    assertSameOwners(base.update(ids, twoLighter), RendezvousTable.build(1024, ids, twoLighter));
  }

  private static void assertSameOwners(RendezvousTable actual, RendezvousTable expected) {
    for (int b = 0; b < expected.buckets(); b++) {
      assertThat(actual.slotId(actual.owner(b)))
          .as("bucket %d", b)
          .isEqualTo(expected.slotId(expected.owner(b)));
    }
  }

  @Test
  void emptyTable_ownsNothing() {
    RendezvousTable t = RendezvousTable.build(256, new String[0], new double[0]);
    assertThat(t.ownerSlot(12345)).isEqualTo(-1);
    assertThat(t.ownerId(12345)).isNull();
    assertThat(t.order(7)).isEmpty();
    assertThat(t.update(new String[0], new double[0]).size()).isZero();
  }

  @Test
  void build_badArguments_nameTheField() {
    assertThatThrownBy(() -> RendezvousTable.build(1000, WS, new double[] {1, 1, 1}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("buckets: 1000 (expected: a power of two from 256 to 67108864)");
    assertThatThrownBy(() -> RendezvousTable.build(1024, WS, new double[] {1, 1}))
        .hasMessage("weights: 2 values (expected: one per id, 3)");
    assertThatThrownBy(
            () -> RendezvousTable.build(1024, new String[] {"b", "a"}, new double[] {1, 1}))
        .hasMessage("ids: b before a (expected: ascending and distinct)");
    assertThatThrownBy(() -> RendezvousTable.build(1024, WS, new double[] {1, 0, 1}))
        .hasMessage("weights[1]: 0.0 (expected: positive and finite)");
    assertThatThrownBy(() -> RendezvousTable.build(1024, WS, new double[] {1, Double.NaN, 1}))
        .hasMessage("weights[1]: NaN (expected: positive and finite)");
    assertThatThrownBy(() -> RendezvousTable.build(1024, WS, new double[] {1, 1, 1}).order(1024))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessage("bucket: 1024 (expected: 0..1023)");
  }

  private static String[] ids(int n) {
    String[] ids = new String[n];
    for (int i = 0; i < n; i++) {
      ids[i] = String.format("m%06d", i);
    }
    return ids;
  }

  private static RendezvousTable build(int n, int buckets) {
    double[] w = new double[n];
    java.util.Arrays.fill(w, 1);
    return RendezvousTable.build(buckets, ids(n), w);
  }
}

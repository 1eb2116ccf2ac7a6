package dev.affinity.hash;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import net.jqwik.api.constraints.UniqueElements;

/**
 * Properties of the rendezvous table. Every disruption and agreement property compares every bucket
 * of both tables, so its bound is exact: no tolerance, no sampling error. A key's bucket does not
 * depend on the members, so "the buckets that change owner" is exactly "the keys that move".
 *
 * <p>The balance property counts buckets, not keys: with M buckets and n equal members a member's
 * bucket count is Binomial(M, 1/n), standard deviation sigma = sqrt(M (1/n) (1 - 1/n)). Every count
 * must be within 6 sigma of M/n: a correct table fails a single check with probability about 2e-9
 * (under 1e-6 over all members and tries), while a bucket function that favoured one member by 10%
 * at M = 2^16 and n = 8 (about 9 sigma) fails at once.
 */
class RendezvousTableProperties {
  private static final int M = 1 << 10;

  private static String[] ids(Map<String, Double> members) {
    return members.keySet().toArray(new String[0]);
  }

  private static double[] weights(Map<String, Double> members) {
    return members.values().stream().mapToDouble(Double::doubleValue).toArray();
  }

  private static RendezvousTable build(Map<String, Double> members) {
    return RendezvousTable.build(M, ids(members), weights(members));
  }

  /** The owner id of every bucket. */
  private static String[] owners(RendezvousTable t) {
    String[] out = new String[t.buckets()];
    for (int b = 0; b < out.length; b++) {
      out[b] = t.slotId(t.owner(b));
    }
    return out;
  }

  private static TreeMap<String, Double> members(List<String> ids, long seed, boolean weighted) {
    Random r = new Random(seed);
    TreeMap<String, Double> m = new TreeMap<>();
    for (String id : ids) {
      m.put(id, weighted ? (double) (1 + r.nextInt(5)) : 1.0);
    }
    return m;
  }

  /** Each bucket's owner is the reference weighted rendezvous winner, computed from scratch. */
  @Property(tries = 60)
  void build_everyBucket_isTheReferenceWinner(
      @ForAll @Size(min = 1, max = 24) @UniqueElements
          List<@AlphaChars @StringLength(min = 1, max = 6) String> ids,
      @ForAll long seed,
      @ForAll boolean weighted) {
    TreeMap<String, Double> members = members(ids, seed, weighted);
    RendezvousTable t = build(members);
    String[] sorted = ids(members);
    double[] w = weights(members);
    for (int b = 0; b < M; b++) {
      assertThat(t.slotId(t.owner(b))).isEqualTo(RendezvousTable.referenceOwner(b, sorted, w));
      assertThat(t.order(b)[0]).isEqualTo(t.owner(b));
    }
  }

  /**
   * Removing a member moves exactly its buckets: every bucket it did not own keeps its owner, and
   * each one it owned goes to that bucket's next member in rendezvous order.
   */
  @Property(tries = 60)
  void update_memberRemoved_movesExactlyItsBuckets(
      @ForAll @Size(min = 2, max = 24) @UniqueElements
          List<@AlphaChars @StringLength(min = 1, max = 6) String> ids,
      @ForAll long seed,
      @ForAll boolean weighted,
      @ForAll @IntRange(min = 0, max = 1000) int pick) {
    TreeMap<String, Double> members = members(ids, seed, weighted);
    RendezvousTable before = build(members);
    String gone = ids(members)[pick % members.size()];
    members.remove(gone);
    RendezvousTable after = before.update(ids(members), weights(members));
    String[] b = owners(before);
    String[] a = owners(after);
    int moved = 0;
    int owned = 0;
    for (int i = 0; i < M; i++) {
      if (b[i].equals(gone)) {
        owned++;
        int[] order = before.order(i);
        assertThat(a[i]).isEqualTo(before.slotId(order[1]));
      } else {
        assertThat(a[i]).isEqualTo(b[i]);
      }
      moved += a[i].equals(b[i]) ? 0 : 1;
    }
    assertThat(moved).isEqualTo(owned);
    assertThat(owners(build(members))).isEqualTo(a);
  }

  /** Adding a member moves buckets only to it, and exactly the ones it wins from their owners. */
  @Property(tries = 60)
  void update_memberAdded_movesBucketsOnlyToIt(
      @ForAll @Size(min = 1, max = 24) @UniqueElements
          List<@AlphaChars @StringLength(min = 1, max = 6) String> ids,
      @ForAll @AlphaChars @StringLength(min = 7, max = 8) String newcomer,
      @ForAll long seed,
      @ForAll boolean weighted) {
    TreeMap<String, Double> members = members(ids, seed, weighted);
    RendezvousTable before = build(members);
    members.put(newcomer, weighted ? 3.0 : 1.0);
    RendezvousTable after = before.update(ids(members), weights(members));
    String[] b = owners(before);
    String[] a = owners(after);
    for (int i = 0; i < M; i++) {
      assertThat(a[i]).isIn(b[i], newcomer);
    }
    assertThat(a).isEqualTo(owners(build(members)));
  }

  /**
   * A weight change moves buckets only to the member (weight up) or only away from it (weight
   * down); no bucket changes between two other members.
   */
  @Property(tries = 60)
  void update_weightChanged_movesOnlyTheChangedMembersBuckets(
      @ForAll @Size(min = 2, max = 24) @UniqueElements
          List<@AlphaChars @StringLength(min = 1, max = 6) String> ids,
      @ForAll long seed,
      @ForAll @IntRange(min = 0, max = 1000) int pick,
      @ForAll @IntRange(min = 1, max = 8) int newWeight) {
    TreeMap<String, Double> members = members(ids, seed, true);
    RendezvousTable before = build(members);
    String changed = ids(members)[pick % members.size()];
    double old = members.put(changed, (double) newWeight);
    RendezvousTable after = before.update(ids(members), weights(members));
    String[] b = owners(before);
    String[] a = owners(after);
    for (int i = 0; i < M; i++) {
      if (!a[i].equals(b[i])) {
        assertThat(newWeight > old ? a[i] : b[i]).isEqualTo(changed);
      }
    }
    assertThat(a).isEqualTo(owners(build(members)));
  }

  /**
   * Stateful churn: after any sequence of additions, removals and weight changes, several at once,
   * the incrementally updated table equals one built from scratch, and each step moved only buckets
   * that had to move (from a removed or weakened member, or to an added or strengthened one).
   */
  @Property(tries = 30)
  void update_anyChurn_equalsFreshBuildAndMovesOnlyWhatMustMove(
      @ForAll long seed, @ForAll @IntRange(min = 1, max = 12) int steps) {
    Random r = new Random(seed);
    TreeMap<String, Double> members = new TreeMap<>();
    for (int i = 0; i < 1 + r.nextInt(10); i++) {
      members.put("m" + r.nextInt(40), 1.0 + r.nextInt(3));
    }
    RendezvousTable t = build(members);
    for (int s = 0; s < steps; s++) {
      TreeMap<String, Double> next = new TreeMap<>(members);
      for (int c = 0; c < 1 + r.nextInt(3); c++) {
        String id = "m" + r.nextInt(40);
        if (next.containsKey(id) && r.nextBoolean() && next.size() > 1) {
          next.remove(id);
        } else {
          next.put(id, 1.0 + r.nextInt(3));
        }
      }
      RendezvousTable u = t.update(ids(next), weights(next));
      String[] b = owners(t);
      String[] a = owners(u);
      assertThat(a).isEqualTo(owners(build(next)));
      assertKnownRunnersUpAreExact(u);
      for (int i = 0; i < M; i++) {
        if (!a[i].equals(b[i])) {
          Double wasOwner = next.get(b[i]);
          Double was = members.get(a[i]);
          boolean fromLoser = wasOwner == null || wasOwner < members.get(b[i]);
          boolean toWinner = was == null || next.get(a[i]) > was;
          assertThat(fromLoser || toWinner).as("bucket %d: %s -> %s", i, b[i], a[i]).isTrue();
        }
      }
      members = next;
      t = u;
    }
  }

  /**
   * A fresh build knows every bucket's runner-up (with two members or more), and it is the second
   * of the bucket's rendezvous order.
   */
  @Property(tries = 30)
  void build_everyBucket_knowsItsRunnerUp(
      @ForAll @Size(min = 2, max = 24) @UniqueElements
          List<@AlphaChars @StringLength(min = 1, max = 6) String> ids,
      @ForAll long seed,
      @ForAll boolean weighted) {
    RendezvousTable t = build(members(ids, seed, weighted));
    for (int b = 0; b < M; b++) {
      assertThat(t.runner(b)).isEqualTo(t.order(b)[1]);
    }
  }

  /**
   * A removal hands each of the removed member's buckets to the runner-up the table recorded; the
   * runner-up of those buckets, and of the buckets whose runner-up left, is then not known, and
   * every other bucket keeps a known, exact runner-up.
   */
  @Property(tries = 30)
  void update_memberRemoved_runnersUpStayExactOrUnknown(
      @ForAll @Size(min = 3, max = 24) @UniqueElements
          List<@AlphaChars @StringLength(min = 1, max = 6) String> ids,
      @ForAll long seed,
      @ForAll boolean weighted,
      @ForAll @IntRange(min = 0, max = 1000) int pick) {
    TreeMap<String, Double> members = members(ids, seed, weighted);
    RendezvousTable before = build(members);
    String gone = ids(members)[pick % members.size()];
    members.remove(gone);
    RendezvousTable after = before.update(ids(members), weights(members));
    for (int b = 0; b < M; b++) {
      boolean touched =
          before.slotId(before.owner(b)).equals(gone)
              || before.slotId(before.runner(b)).equals(gone);
      if (touched) {
        assertThat(after.runner(b)).isEqualTo(-1);
      } else {
        assertThat(after.runner(b)).isEqualTo(after.order(b)[1]);
      }
    }
    assertKnownRunnersUpAreExact(after);
  }

  /** Every runner-up the table knows is the second of its bucket's rendezvous order. */
  private static void assertKnownRunnersUpAreExact(RendezvousTable t) {
    for (int b = 0; b < t.buckets(); b++) {
      int r = t.runner(b);
      if (r >= 0) {
        assertThat(r).as("bucket %d", b).isEqualTo(t.order(b)[1]);
      }
    }
  }

  /** Equal members get Binomial(M, 1/n) buckets each: all within 6 sigma (see the class doc). */
  @Property(tries = 10)
  void build_equalMembers_bucketCountsWithinSixSigma(
      @ForAll @IntRange(min = 2, max = 64) int n, @ForAll @IntRange(min = 0, max = 1000) int salt) {
    int buckets = 1 << 16;
    List<String> idList = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      idList.add("b" + salt + "-" + i);
    }
    TreeMap<String, Double> members = members(idList, 0, false);
    RendezvousTable t = RendezvousTable.build(buckets, ids(members), weights(members));
    int[] counts = new int[n];
    for (int b = 0; b < buckets; b++) {
      counts[Integer.parseInt(t.slotId(t.owner(b)).replaceAll(".*-", ""))]++;
    }
    double p = 1.0 / n;
    double sigma = Math.sqrt(buckets * p * (1 - p));
    for (int c : counts) {
      assertThat(Math.abs(c - buckets * p)).isLessThanOrEqualTo(6 * sigma);
    }
  }

  /**
   * Weighted members get bucket shares proportional to their weights, within 6 sigma of the
   * binomial with p = w / W (see the class doc).
   */
  @Property(tries = 10)
  void build_weightedMembers_shareFollowsWeight(@ForAll long seed) {
    int buckets = 1 << 16;
    Random r = new Random(seed);
    TreeMap<String, Double> members = new TreeMap<>();
    for (int i = 0; i < 2 + r.nextInt(10); i++) {
      members.put("w" + i, 1.0 + r.nextInt(8));
    }
    RendezvousTable t = RendezvousTable.build(buckets, ids(members), weights(members));
    Map<String, Integer> counts = new TreeMap<>();
    for (int b = 0; b < buckets; b++) {
      counts.merge(t.slotId(t.owner(b)), 1, Integer::sum);
    }
    double total = members.values().stream().mapToDouble(Double::doubleValue).sum();
    for (Map.Entry<String, Double> e : members.entrySet()) {
      double p = e.getValue() / total;
      double sigma = Math.sqrt(buckets * p * (1 - p));
      assertThat(Math.abs(counts.getOrDefault(e.getKey(), 0) - buckets * p))
          .isLessThanOrEqualTo(6 * sigma);
    }
  }

  /** A key goes to its bucket's owner, and the bucket is the top log2(M) bits of its hash. */
  @Property(tries = 200)
  void ownerIndex_isTheOwnerOfTheKeysBucket(
      @ForAll @IntRange(min = 0) int hi, @ForAll boolean topBit) {
    long keyHash = (topBit ? 0x8000_0000L : 0) | hi;
    TreeMap<String, Double> members = members(List.of("a", "b", "c", "d"), 1, true);
    RendezvousTable t = build(members);
    int bucket = RendezvousTable.bucket(keyHash, M);
    assertThat(bucket).isEqualTo((int) (keyHash * M >>> 32));
    assertThat(t.ownerSlot(keyHash)).isEqualTo(t.owner(bucket));
    assertThat(t.ownerId(keyHash)).isEqualTo(t.slotId(t.owner(bucket)));
  }

  /** Two tables built from the same members agree, whatever path led to them. */
  @Property(tries = 30)
  void build_sameMembers_sameTableWhateverTheHistory(
      @ForAll @Size(min = 2, max = 16) @UniqueElements
          List<@AlphaChars @StringLength(min = 1, max = 6) String> ids) {
    TreeMap<String, Double> all = members(ids, 3, true);
    RendezvousTable grown = RendezvousTable.build(M, new String[0], new double[0]);
    TreeMap<String, Double> sofar = new TreeMap<>();
    for (Map.Entry<String, Double> e : members(ids, 3, true).descendingMap().entrySet()) {
      sofar.put(e.getKey(), e.getValue());
      grown = grown.update(ids(sofar), weights(sofar));
    }
    assertThat(owners(grown)).isEqualTo(owners(build(all)));
  }
}

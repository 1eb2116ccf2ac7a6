package dev.affinity.strategy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.hash.RendezvousHash;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import net.jqwik.api.constraints.UniqueElements;

/**
 * Properties of the Maglev table strategy. Table comparisons are exact (every slot is compared), so
 * the disruption and slot-balance bounds have no sampling error; only the key-balance property
 * samples, and it uses the same 6-sigma rule as {@link RendezvousProperties}.
 */
class MaglevProperties {
  private static final RoutingKey KEY = RoutingKey.header("X-Key");
  private static final int M = MaglevStrategy.DEFAULT_TABLE_SIZE;

  private static BackendGroup group(List<String> ids) {
    BackendGroup g = BackendGroup.create();
    for (String id : ids) {
      g.add(Backend.of(id, "10.0.0.1", 8080));
    }
    return g;
  }

  private static List<String> numbered(int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add("backend-" + i);
    }
    return ids;
  }

  /** The owner id of every slot. */
  private static String[] owners(Membership m) {
    MaglevStrategy.Table t = new MaglevStrategy(KEY, M).table(m);
    String[] out = new String[t.slots.length];
    for (int s = 0; s < out.length; s++) {
      out[s] = t.order.up[t.slots[s]].id();
    }
    return out;
  }

  private static double movedFraction(String[] before, String[] after) {
    int moved = 0;
    for (int s = 0; s < before.length; s++) {
      if (!before[s].equals(after[s])) {
        moved++;
      }
    }
    return (double) moved / before.length;
  }

  private static String owner(AffinityStrategy s, Membership m, String key) {
    Member member = s.select(RoutingRequest.builder().header("X-Key", key).build(), m).member();
    assertThat(member).isNotNull();
    return member.id();
  }

  /**
   * Determinism: the same members added in any order, seen by two strategy instances, give the same
   * table slot for slot and so the same owner for every key. Bound: exact equality, because the
   * table depends only on the sorted (id, weight) list.
   */
  @Property(tries = 30)
  void table_isDeterministicAndIndependentOfInsertionOrder(
      @ForAll @Size(min = 1, max = 30) @UniqueElements
          List<@AlphaChars @StringLength(min = 1, max = 8) String> ids,
      @ForAll long seed) {
    List<String> shuffled = new ArrayList<>(ids);
    Collections.shuffle(shuffled, new Random(seed));
    Membership a = group(ids).snapshot();
    Membership b = group(shuffled).snapshot();
    assertThat(owners(b)).isEqualTo(owners(a));
    AffinityStrategy s1 = AffinityStrategy.maglev(KEY);
    AffinityStrategy s2 = AffinityStrategy.maglev(KEY);
    Random r = new Random(seed);
    for (int i = 0; i < 200; i++) {
      String key = "user-" + r.nextLong();
      assertThat(owner(s2, b, key)).isEqualTo(owner(s1, a, key));
    }
  }

  /**
   * Slot balance, equal weights: every backend owns {@code floor(M/n)} or {@code ceil(M/n)} slots.
   * Bound: exact, because each population round gives every backend one slot.
   */
  @Property(tries = 15)
  void slots_equalWeights_floorOrCeilOfShare(@ForAll @IntRange(min = 1, max = 1000) int n) {
    String[] owners = owners(group(numbered(n)).snapshot());
    java.util.Map<String, Integer> counts = new java.util.HashMap<>();
    for (String o : owners) {
      counts.merge(o, 1, Integer::sum);
    }
    assertThat(counts).hasSize(n);
    assertThat(counts.values()).allSatisfy(c -> assertThat(c).isBetween(M / n, (M + n - 1) / n));
  }

  /**
   * Slot balance, weights 1..10: backend i owns within {@code n × w_i / W + 2} slots of {@code M ×
   * w_i / W}. Bound: after the last round T, {@code placed_i} lies between {@code (T-1) w_i/maxW}
   * and {@code T w_i/maxW + 1}; summing over backends pins T to within {@code n} turns of {@code M
   * maxW / W}, which gives the stated error.
   */
  @Property(tries = 15)
  void slots_followWeights(
      @ForAll @Size(min = 2, max = 40) List<@IntRange(min = 1, max = 10) Integer> weights) {
    BackendGroup g = BackendGroup.create();
    long total = 0;
    for (int i = 0; i < weights.size(); i++) {
      g.add(Backend.of(String.format("b%02d", i), "10.0.0.1", 8080).withWeight(weights.get(i)));
      total += weights.get(i);
    }
    MaglevStrategy.Table t = new MaglevStrategy(KEY, M).table(g.snapshot());
    int n = weights.size();
    int[] counts = new int[n];
    for (int s : t.slots) {
      counts[s]++;
    }
    for (int i = 0; i < n; i++) {
      double share = t.order.weights[i] / total;
      assertThat(Math.abs(counts[i] - M * share))
          .as("backend %d weight %d", i, t.order.weights[i])
          .isLessThanOrEqualTo(n * share + 2);
    }
  }

  /**
   * Key balance: over 100k random keys each of n equal backends gets its slot share within 6 sigma
   * of the binomial count (same reasoning as {@link RendezvousProperties}: a false alarm is rarer
   * than 1 in 10^5 runs; a skewed slot mapping fails at once).
   */
  @Property(tries = 8)
  void keys_spreadLikeSlots_within6Sigma(
      @ForAll @IntRange(min = 2, max = 64) int n, @ForAll long seed) {
    MaglevStrategy.Table t = new MaglevStrategy(KEY, M).table(group(numbered(n)).snapshot());
    int[] slotCounts = new int[n];
    for (int s : t.slots) {
      slotCounts[s]++;
    }
    int keys = 100_000;
    int[] counts = new int[n];
    Random r = new Random(seed);
    for (int i = 0; i < keys; i++) {
      counts[t.slots[MaglevStrategy.slot(RendezvousHash.keyHash("k" + r.nextLong()), M)]]++;
    }
    for (int i = 0; i < n; i++) {
      double share = (double) slotCounts[i] / M;
      double sigma = Math.sqrt(keys * share * (1 - share));
      assertThat(Math.abs(counts[i] - keys * share)).isLessThanOrEqualTo(6 * sigma);
    }
  }

  /**
   * Disruption: removing one of n backends (or adding one to n-1) changes at least the removed
   * backend's slots and at most {@code 1/n + 8%} of all slots. Bound: Maglev gives no guarantee
   * here; it reshuffles some slots between unchanged backends, and the amount has a heavy tail when
   * n is small. Over about 16,000 random id sets (n from 2 to 300) the worst extra movement we saw
   * was 4.6% (n = 8; one failing seed earlier showed 3.5% at n = 3), typically under 1.5%, so 8%
   * leaves margin, while a broken permutation (which reshuffles most of the table) fails at once.
   * Rendezvous would move exactly 1/n.
   */
  @Property(tries = 25)
  void removingOrAddingOne_movesAbout1OverN(
      @ForAll @Size(min = 2, max = 300) @UniqueElements
          List<@AlphaChars @StringLength(min = 1, max = 8) String> ids,
      @ForAll @IntRange(min = 0, max = 299) int victimIndex) {
    String victim = ids.get(victimIndex % ids.size());
    int n = ids.size();
    BackendGroup g = group(ids);
    String[] before = owners(g.snapshot());
    g.remove(victim);
    String[] after = owners(g.snapshot());
    double moved = movedFraction(before, after);
    int victimSlots = 0;
    for (String o : before) {
      victimSlots += o.equals(victim) ? 1 : 0;
    }
    assertThat(victimSlots).isGreaterThanOrEqualTo(M / n);
    assertThat(moved).isBetween((double) victimSlots / M, 1.0 / n + 0.08);
    // Adding it back is the same change in reverse: the table returns exactly.
    g.add(Backend.of(victim, "10.0.0.1", 8080));
    assertThat(owners(g.snapshot())).isEqualTo(before);
  }

  /**
   * Golden values: the table's output is API (every proxy instance must agree), so these owners are
   * pinned. If this fails, the change broke agreement with deployed instances; revert it.
   */
  @Example
  void goldenValues() {
    String[][] cases = {
      // key, slot in the default table, owner among ws-1..3, owner among alpha..echo
      {"alice", "19537", "ws-3", "delta"},
      {"bob", "43100", "ws-2", "echo"},
      {"203.0.113.7", "40713", "ws-1", "bravo"},
      {"user:42", "51111", "ws-3", "charlie"},
      {"tenant-a/sub-9", "53169", "ws-2", "delta"},
      {"Zürich", "10601", "ws-1", "charlie"},
    };
    Membership three = group(List.of("ws-1", "ws-2", "ws-3")).snapshot();
    Membership five = group(List.of("alpha", "bravo", "charlie", "delta", "echo")).snapshot();
    AffinityStrategy s = AffinityStrategy.maglev(KEY);
    for (String[] c : cases) {
      assertThat(MaglevStrategy.slot(RendezvousHash.keyHash(c[0]), M))
          .isEqualTo(Integer.parseInt(c[1]));
      assertThat(owner(s, three, c[0])).as(c[0]).isEqualTo(c[2]);
      assertThat(owner(s, five, c[0])).as(c[0]).isEqualTo(c[3]);
    }
    assertThat(owners(three)).startsWith("ws-1", "ws-2", "ws-3", "ws-3", "ws-3", "ws-2", "ws-1");
    // Weights 1, 2, 5 split the 65,537 slots 8193 / 16384 / 40960.
    BackendGroup weighted = BackendGroup.create();
    weighted.add(Backend.of("ws-1", "10.0.0.1", 80).withWeight(1));
    weighted.add(Backend.of("ws-2", "10.0.0.1", 80).withWeight(2));
    weighted.add(Backend.of("ws-3", "10.0.0.1", 80).withWeight(5));
    MaglevStrategy.Table t = new MaglevStrategy(KEY, M).table(weighted.snapshot());
    int[] counts = new int[3];
    for (int x : t.slots) {
      counts[x]++;
    }
    assertThat(counts).containsExactly(8193, 16384, 40960);
    assertThat(owner(s, weighted.snapshot(), "Zürich")).isEqualTo("ws-1");
    assertThat(owner(s, weighted.snapshot(), "alice")).isEqualTo("ws-3");
  }
}

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
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import net.jqwik.api.constraints.UniqueElements;

/**
 * Properties of weighted rendezvous hashing, checked through the strategy that routes with it.
 *
 * <p>Balance bounds: with K keys hashed uniformly onto backends with shares p_i, a backend's count
 * is Binomial(K, p_i) with standard deviation sigma_i = sqrt(K p_i (1 - p_i)). We require every
 * count within 6 sigma_i of K p_i. For a correct hash a single check fails with probability about
 * 2e-9; over at most 64 backends and the tries below, a false alarm is rarer than 1 in 10^5 runs,
 * while a biased hash (say a 5% skew at 100k keys and 16 backends, about 7 sigma) fails at once.
 */
class RendezvousProperties {
  private static final RoutingKey KEY = RoutingKey.header("X-Key");
  private static final int KEYS = 100_000;

  private static BackendGroup group(List<String> ids) {
    BackendGroup g = BackendGroup.create();
    for (String id : ids) {
      g.add(Backend.of(id, "10.0.0.1", 8080));
    }
    return g;
  }

  private static List<String> keys(long seed, int count) {
    Random r = new Random(seed);
    List<String> keys = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      keys.add("user-" + Long.toHexString(r.nextLong()));
    }
    return keys;
  }

  private static String owner(AffinityStrategy s, Membership m, String key) {
    RoutingRequest request = RoutingRequest.builder().header("X-Key", key).build();
    Member member = s.select(request, m).member();
    assertThat(member).isNotNull();
    return member.id();
  }

  /** Same members added in any order give the same owner, equal to the reference definition. */
  @Property(tries = 50)
  void owner_isDeterministicAndIndependentOfInsertionOrder(
      @ForAll @Size(min = 1, max = 20) @UniqueElements
          List<@AlphaChars @StringLength(min = 1, max = 8) String> ids,
      @ForAll long seed) {
    List<String> shuffled = new ArrayList<>(ids);
    Collections.shuffle(shuffled, new Random(seed));
    Membership a = group(ids).snapshot();
    Membership b = group(shuffled).snapshot();
    AffinityStrategy s1 = AffinityStrategy.rendezvous(KEY);
    AffinityStrategy s2 = AffinityStrategy.rendezvous(KEY);
    for (String key : keys(seed, 300)) {
      String owner = owner(s1, a, key);
      assertThat(owner(s2, b, key)).isEqualTo(owner);
      assertThat(owner(s1, a, key)).isEqualTo(owner);
      assertThat(RendezvousHash.owner(key, ids)).isEqualTo(owner);
    }
    assertThat(a.fingerprint()).isEqualTo(b.fingerprint());
  }

  /** Removing a backend moves exactly the keys it owned; no key moves between two others. */
  @Property(tries = 50)
  void removingBackend_movesExactlyItsKeys(
      @ForAll @Size(min = 2, max = 40) @UniqueElements
          List<@AlphaChars @StringLength(min = 1, max = 8) String> ids,
      @ForAll @IntRange(min = 0, max = 39) int victimIndex,
      @ForAll long seed) {
    String victim = ids.get(victimIndex % ids.size());
    BackendGroup g = group(ids);
    AffinityStrategy s = AffinityStrategy.rendezvous(KEY);
    List<String> keys = keys(seed, 2000);
    Map<String, String> before = new HashMap<>();
    for (String k : keys) {
      before.put(k, owner(s, g.snapshot(), k));
    }
    g.remove(victim);
    for (String k : keys) {
      String after = owner(s, g.snapshot(), k);
      if (before.get(k).equals(victim)) {
        assertThat(after).isNotEqualTo(victim);
      } else {
        assertThat(after).as("key %s must not move", k).isEqualTo(before.get(k));
      }
    }
  }

  /** Adding a backend moves keys only to it; the same holds when marking one DOWN then UP. */
  @Property(tries = 50)
  void addingBackend_movesKeysOnlyToIt(
      @ForAll @Size(min = 1, max = 40) @UniqueElements
          List<@AlphaChars @StringLength(min = 1, max = 8) String> ids,
      @ForAll long seed) {
    BackendGroup g = group(ids);
    AffinityStrategy s = AffinityStrategy.rendezvous(KEY);
    List<String> keys = keys(seed, 2000);
    Map<String, String> before = new HashMap<>();
    for (String k : keys) {
      before.put(k, owner(s, g.snapshot(), k));
    }
    g.add(Backend.of("new-backend-0", "10.0.0.9", 8080));
    int moved = 0;
    for (String k : keys) {
      String after = owner(s, g.snapshot(), k);
      if (!after.equals(before.get(k))) {
        assertThat(after).isEqualTo("new-backend-0");
        moved++;
      }
    }
    // The newcomer takes about 1/(n+1) of the keys: it must take some, and not most, of 2000.
    assertThat(moved).isBetween(1, 2000 * 3 / (ids.size() + 1) + 30);
  }

  /** Over 100k keys, every one of 2..64 equal backends gets K/n within 6 sigma. */
  @Property(tries = 12)
  void balance_equalWeights_within6Sigma(
      @ForAll @IntRange(min = 2, max = 64) int n, @ForAll long seed) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add("backend-" + i);
    }
    RendezvousStrategy s = new RendezvousStrategy("rendezvous", KEY);
    RendezvousStrategy.Prepared p = s.prepare(group(ids).snapshot());
    int[] counts = new int[n];
    Random r = new Random(seed);
    for (int i = 0; i < KEYS; i++) {
      counts[p.best(RendezvousHash.keyHash("k" + r.nextLong()))]++;
    }
    double share = 1.0 / n;
    double sigma = Math.sqrt(KEYS * share * (1 - share));
    for (int c : counts) {
      assertThat(Math.abs(c - KEYS * share)).isLessThanOrEqualTo(6 * sigma);
    }
  }

  /** With weights 1..10, each backend's share of 100k keys is w/W within 6 sigma. */
  @Property(tries = 12)
  void shares_followWeights_within6Sigma(
      @ForAll @Size(min = 2, max = 16) List<@IntRange(min = 1, max = 10) Integer> weights,
      @ForAll long seed) {
    BackendGroup g = BackendGroup.create();
    long total = 0;
    for (int i = 0; i < weights.size(); i++) {
      g.add(Backend.of("b" + i, "10.0.0.1", 8080).withWeight(weights.get(i)));
      total += weights.get(i);
    }
    RendezvousStrategy s = new RendezvousStrategy("rendezvous", KEY);
    RendezvousStrategy.Prepared p = s.prepare(g.snapshot());
    int[] counts = new int[weights.size()];
    Random r = new Random(seed);
    for (int i = 0; i < KEYS; i++) {
      counts[p.best(RendezvousHash.keyHash("k" + r.nextLong()))]++;
    }
    for (int i = 0; i < counts.length; i++) {
      // Members are sorted by id; map back from the sorted position to the weight.
      Member m = g.snapshot().upMembers()[i];
      double share = (double) m.backend().weight() / total;
      double sigma = Math.sqrt(KEYS * share * (1 - share));
      assertThat(Math.abs(counts[i] - KEYS * share))
          .as("backend %s weight %d", m.id(), m.backend().weight())
          .isLessThanOrEqualTo(6 * sigma);
    }
  }

  /** The failover order starts where the owner would move if it were removed. */
  @Property(tries = 30)
  void firstFailoverCandidate_isTheOwnerAfterRemoval(
      @ForAll @Size(min = 2, max = 20) @UniqueElements
          List<@AlphaChars @StringLength(min = 1, max = 8) String> ids,
      @ForAll long seed) {
    BackendGroup g = group(ids);
    AffinityStrategy s = AffinityStrategy.rendezvous(KEY);
    for (String key : keys(seed, 50)) {
      RoutingRequest request = RoutingRequest.builder().header("X-Key", key).build();
      Membership m = g.snapshot();
      Member owner = s.select(request, m).member();
      assertThat(owner).isNotNull();
      List<Member> next = ((SnapshotStrategy) s).failoverCandidates(request, m, owner, 1);
      Set<String> without = new LinkedHashSet<>(ids);
      without.remove(owner.id());
      assertThat(next).extracting(Member::id).containsExactly(RendezvousHash.owner(key, without));
    }
  }
}

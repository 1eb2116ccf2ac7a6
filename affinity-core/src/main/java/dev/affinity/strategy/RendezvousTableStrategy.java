package dev.affinity.strategy;

import dev.affinity.Outcome;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.hash.RendezvousTable;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The rendezvous table over a {@link RoutingKey}; see {@link
 * AffinityStrategy#rendezvousTable(RoutingKey, int)} and {@link RendezvousTable}.
 *
 * <p>Each membership snapshot gets a {@link Snapshot}: the table derived incrementally from the
 * previous snapshot's table, and the snapshot's members by table slot. A select is one key hash,
 * one array read and one member read. Spill-over and failover walk the key's bucket's rendezvous
 * order, computed only when needed.
 */
final class RendezvousTableStrategy implements OrderedHash {
  private static final Selection KEY_ABSENT = Selection.abstain("no key in the request");
  private static final Selection NO_UP = Selection.abstain("no backend is UP");
  private static final Selection ALL_FULL = Selection.abstain("every UP backend is at its cap");
  private static final String OWNER = "owner of the key's bucket";
  private static final String SPILL =
      "the key's bucket owner is at its cap; next in the bucket's rendezvous order";

  private final String name;
  private final RoutingKey key;
  private final int buckets;
  private volatile Snapshot snapshot;

  RendezvousTableStrategy(String name, RoutingKey key, int buckets) {
    this.name = name;
    this.key = key;
    this.buckets = buckets;
    this.snapshot = Snapshot.EMPTY_MEMBERSHIP.withBuckets(buckets);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public RoutingKey routingKey() {
    return key;
  }

  @Override
  public RoutingKey key() {
    return key;
  }

  @Override
  public @Nullable Member owner(long keyHash, Membership membership) {
    return ownerOf(keyHash, membership);
  }

  @Override
  public Member[] order(long keyHash, Membership membership) {
    Snapshot s = snapshot(membership);
    if (s.table.size() == 0) {
      return new Member[0];
    }
    int[] slots = s.table.order(RendezvousTable.bucket(keyHash, buckets));
    Member[] out = new Member[slots.length];
    for (int i = 0; i < slots.length; i++) {
      out[i] = s.bySlot[slots[i]];
    }
    return out;
  }

  /** The bucket count {@code M}, part of the pinned hash. */
  int buckets() {
    return buckets;
  }

  @Override
  public Selection select(RoutingRequest request, Membership membership) {
    long k = key.hash(request);
    if (k == RoutingKey.ABSENT) {
      return KEY_ABSENT;
    }
    Snapshot s = snapshot(membership);
    int slot = s.table.ownerSlot(k);
    if (slot < 0) {
      return NO_UP;
    }
    Member owner = s.bySlot[slot];
    if (owner.hasCapacity()) {
      return Selection.chosen(owner, Outcome.AFFINITY_HIT, OWNER, key);
    }
    for (int next : s.table.order(RendezvousTable.bucket(k, buckets))) {
      Member m = s.bySlot[next];
      if (m.hasCapacity()) {
        return Selection.chosen(m, Outcome.SPILL_OVER, SPILL, key);
      }
    }
    return ALL_FULL;
  }

  @Override
  public @Nullable Member ownerOf(long keyHash, Membership membership) {
    Snapshot s = snapshot(membership);
    int slot = s.table.ownerSlot(keyHash);
    return slot < 0 ? null : s.bySlot[slot];
  }

  @Override
  public List<Member> failoverCandidates(
      RoutingRequest request, Membership membership, Member chosen, int limit) {
    long k = key.hash(request);
    if (k == RoutingKey.ABSENT) {
      return Candidates.leastLoaded(membership, chosen, limit);
    }
    Snapshot s = snapshot(membership);
    List<Member> out = new ArrayList<>();
    if (s.table.size() == 0) {
      return out;
    }
    for (int slot : s.table.order(RendezvousTable.bucket(k, buckets))) {
      Member m = s.bySlot[slot];
      if (out.size() < limit && !m.id().equals(chosen.id()) && m.hasCapacity()) {
        out.add(m);
      }
    }
    return out;
  }

  /**
   * The snapshot's table, derived from the last one this strategy saw. Until selectors are built at
   * publish, the first select after a membership change derives it.
   */
  Snapshot snapshot(Membership membership) {
    Snapshot s = snapshot;
    if (s.membership != membership) {
      s = s.next(membership);
      snapshot = s;
    }
    return s;
  }

  @Override
  public String toString() {
    String b = buckets == RendezvousTable.DEFAULT_BUCKETS ? "" : ", " + buckets;
    return name.equals("source-ip-table")
        ? "AffinityStrategy.sourceIpTable(" + key + b + ")"
        : "AffinityStrategy.rendezvousTable(" + key + b + ")";
  }

  /** One membership snapshot's table and its UP members by table slot. */
  static final class Snapshot {
    static final Snapshot EMPTY_MEMBERSHIP =
        new Snapshot(
            Membership.empty(), RendezvousTable.empty(RendezvousTable.MIN_BUCKETS), new Member[0]);

    final Membership membership;
    final RendezvousTable table;
    final Member[] bySlot;

    private Snapshot(Membership membership, RendezvousTable table, Member[] bySlot) {
      this.membership = membership;
      this.table = table;
      this.bySlot = bySlot;
    }

    Snapshot withBuckets(int buckets) {
      return new Snapshot(membership, RendezvousTable.empty(buckets), bySlot);
    }

    /** The next snapshot's table, updated from this one's: O(M) per changed member. */
    Snapshot next(Membership next) {
      Member[] up = next.upMembers();
      String[] ids = new String[up.length];
      double[] weights = new double[up.length];
      for (int i = 0; i < up.length; i++) {
        ids[i] = up[i].id();
        weights[i] = up[i].effectiveWeight();
      }
      RendezvousTable t = table.update(ids, weights);
      Member[] bySlot = new Member[t.slotCount()];
      for (int i = 0; i < up.length; i++) {
        bySlot[t.slot(i)] = up[i];
      }
      return new Snapshot(next, t, bySlot);
    }
  }
}

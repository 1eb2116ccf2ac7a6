package dev.affinity.strategy;

import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.hash.RendezvousTable;
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
final class RendezvousTableStrategy extends HashStrategy {
  private static final String OWNER = "owner of the key's bucket";
  private static final String SPILL =
      "the key's bucket owner is at its cap; next in the bucket's rendezvous order";

  private final String name;
  private final RoutingKey key;
  private final int buckets;

  RendezvousTableStrategy(String name, RoutingKey key, int buckets) {
    this.name = name;
    this.key = key;
    this.buckets = buckets;
  }

  @Override
  public String name() {
    return name;
  }

  /** The name and the bucket count {@code M}, which is part of the pinned hash. */
  @Override
  public String decisionParameters() {
    return name + " buckets=" + buckets;
  }

  @Override
  RoutingKey key() {
    return key;
  }

  /** The bucket count {@code M}, part of the pinned hash. */
  int buckets() {
    return buckets;
  }

  /**
   * Derives the snapshot's table incrementally from the previous snapshot's (O(M) per changed
   * member), once per published snapshot.
   */
  @Override
  TableSelector build(Membership membership, Selectors.@Nullable Snapshot previous) {
    Snapshot prior =
        previous instanceof TableSelector
            ? ((TableSelector) previous).snapshot
            : Snapshot.EMPTY_MEMBERSHIP.withBuckets(buckets);
    return new TableSelector(prior.next(membership), key, buckets);
  }

  /** The table for {@code membership}, as a direct caller would get it; for tests. */
  Snapshot snapshot(Membership membership) {
    return ((TableSelector) selectorFor(membership)).snapshot;
  }

  /**
   * One snapshot's selector over its table. It keeps the table, the members by slot and the
   * snapshot in fields of its own, so that a select reads the owner array and one member reference
   * without going through the {@link Snapshot}.
   */
  static final class TableSelector extends HashSelector {
    final Snapshot snapshot;
    private final RendezvousTable table;
    private final Member[] bySlot;
    private final Membership membership;
    private final int buckets;

    TableSelector(Snapshot snapshot, RoutingKey key, int buckets) {
      super(key, snapshot.membership.upMembers());
      this.snapshot = snapshot;
      this.table = snapshot.table;
      this.bySlot = snapshot.bySlot;
      this.membership = snapshot.membership;
      this.buckets = buckets;
    }

    @Override
    public Membership membership() {
      return membership;
    }

    @Override
    Member[] up() {
      return membership.upMembers();
    }

    @Override
    @Nullable Member owner(long keyHash) {
      int slot = table.ownerSlot(keyHash);
      return slot < 0 ? null : bySlot[slot];
    }

    @Override
    Member[] order(long keyHash) {
      if (table.size() == 0) {
        return new Member[0];
      }
      int[] slots = table.order(RendezvousTable.bucket(keyHash, buckets));
      Member[] out = new Member[slots.length];
      for (int i = 0; i < slots.length; i++) {
        out[i] = bySlot[slots[i]];
      }
      return out;
    }

    @Override
    String ownerReason() {
      return OWNER;
    }

    @Override
    String spillReason() {
      return SPILL;
    }

    @Override
    public String toString() {
      return "rendezvous table selector at version " + membership.version();
    }
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

package dev.affinity.strategy;

import dev.affinity.Outcome;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.hash.Maglev;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Maglev-style table consistent hashing (Eisenbud et al., NSDI 2016), weighted; see {@link
 * AffinityStrategy#maglev(RoutingKey, int)} for the definition.
 *
 * <p>The lookup table is built once per membership snapshot and then read lock-free. Spill-over and
 * failover walk the key's rendezvous order, so they are deterministic and cost nothing unless used.
 */
final class MaglevStrategy implements AffinityStrategy {
  /** The default table size: the prime the Maglev paper uses for its smaller tables. */
  static final int DEFAULT_TABLE_SIZE = 65_537;

  private static final Selection KEY_ABSENT = Selection.abstain("no key in the request");
  private static final Selection NO_UP = Selection.abstain("no backend is UP");
  private static final Selection ALL_FULL = Selection.abstain("every UP backend is at its cap");
  private static final String OWNER = "owner of the key's table slot";
  private static final String SPILL =
      "the key's table owner is at its cap; next in the key's rendezvous order";

  private final RoutingKey key;
  private final int tableSize;
  private final RendezvousStrategy order;
  private volatile Table table;

  MaglevStrategy(RoutingKey key, int tableSize) {
    this.key = key;
    this.tableSize = tableSize;
    this.order = new RendezvousStrategy("maglev", key);
    this.table = new Table(order.prepare(Membership.empty()), tableSize);
  }

  @Override
  public String name() {
    return "maglev";
  }

  @Override
  public Selection select(RoutingRequest request, Membership membership) {
    long k = key.hash(request);
    if (k == RoutingKey.ABSENT) {
      return KEY_ABSENT;
    }
    Table t = table(membership);
    RendezvousStrategy.Prepared p = t.order;
    if (p.up.length == 0) {
      return NO_UP;
    }
    Member owner = p.up[t.slots[slot(k, t.slots.length)]];
    if (owner.hasCapacity()) {
      return Selection.chosen(owner, Outcome.AFFINITY_HIT, OWNER, key);
    }
    for (int i : p.rank(k)) {
      if (p.up[i].hasCapacity()) {
        return Selection.chosen(p.up[i], Outcome.SPILL_OVER, SPILL, key);
      }
    }
    return ALL_FULL;
  }

  @Override
  public RoutingKey routingKey() {
    return key;
  }

  @Override
  public @Nullable Member ownerOf(long keyHash, Membership membership) {
    Table t = table(membership);
    return t.order.up.length == 0 ? null : t.order.up[t.slots[slot(keyHash, t.slots.length)]];
  }

  @Override
  public List<Member> failoverCandidates(
      RoutingRequest request, Membership membership, Member chosen, int limit) {
    return order.failoverCandidates(request, membership, chosen, limit);
  }

  /** The slot of a key hash: see {@link Maglev#slot}. */
  static int slot(long keyHash, int size) {
    return Maglev.slot(keyHash, size);
  }

  Table table(Membership membership) {
    Table t = table;
    if (t.order.membership != membership) {
      t = new Table(order.prepare(membership), tableSize);
      table = t;
    }
    return t;
  }

  @Override
  public String toString() {
    return "AffinityStrategy.maglev("
        + key
        + (tableSize == DEFAULT_TABLE_SIZE ? "" : ", " + tableSize)
        + ")";
  }

  /** One snapshot's lookup table: slot to index into {@code order.up}. */
  static final class Table {
    final RendezvousStrategy.Prepared order;
    final int[] slots;

    Table(RendezvousStrategy.Prepared order, int size) {
      this.order = order;
      this.slots = Maglev.populate(order.idHashes, order.integerWeights(), size);
    }
  }
}

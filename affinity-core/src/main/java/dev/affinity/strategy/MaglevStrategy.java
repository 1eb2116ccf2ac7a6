package dev.affinity.strategy;

import dev.affinity.Outcome;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
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

  /** The slot of a key hash (an unsigned 32-bit number): {@code floor(keyHash × size / 2^32)}. */
  static int slot(long keyHash, int size) {
    return (int) ((keyHash * size) >>> 32);
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
      this.slots = populate(order.idHashes, order.integerWeights(), size);
    }

    /**
     * Maglev's population: each backend walks its own permutation of the slots ({@code offset},
     * {@code offset + skip}, ... mod size) and claims the next empty slot when its turn comes. In
     * round {@code t} (from 1) backend {@code i} takes a turn while {@code placed_i × maxWeight < t
     * × weight_i}, so with equal weights every backend takes one turn per round (the paper's
     * algorithm) and otherwise turns, hence slots, follow weights. Backends go in id order.
     */
    static int[] populate(long[] idHashes, int[] weights, int size) {
      int n = idHashes.length;
      if (n == 0) {
        return new int[0];
      }
      int[] slots = new int[size];
      java.util.Arrays.fill(slots, -1);
      long[] next = new long[n];
      long[] skip = new long[n];
      long[] placed = new long[n];
      long maxWeight = 0;
      for (int i = 0; i < n; i++) {
        // Two numbers per backend from the pinned primitives: fmix64 of its id hash, split.
        long h = RendezvousHash.fmix64(idHashes[i]);
        next[i] = Long.remainderUnsigned(h >>> 32, size);
        skip[i] = Long.remainderUnsigned(h & 0xffff_ffffL, size - 1) + 1;
        maxWeight = Math.max(maxWeight, weights[i]);
      }
      int filled = 0;
      for (long round = 1; filled < size; round++) {
        for (int i = 0; i < n && filled < size; i++) {
          if (placed[i] * maxWeight >= round * weights[i]) {
            continue;
          }
          int s = (int) next[i];
          while (slots[s] >= 0) {
            s = (int) ((s + skip[i]) % size);
          }
          slots[s] = i;
          next[i] = (s + skip[i]) % size;
          placed[i]++;
          filled++;
        }
      }
      return slots;
    }
  }
}

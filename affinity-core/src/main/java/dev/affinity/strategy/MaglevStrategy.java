package dev.affinity.strategy;

import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.hash.Maglev;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * Maglev-style table consistent hashing (Eisenbud et al., NSDI 2016), weighted; see {@link
 * AffinityStrategy#maglev(RoutingKey, int)} for the definition.
 *
 * <p>The lookup table is built once per membership snapshot and then read lock-free. Spill-over and
 * failover walk the key's rendezvous order, so they are deterministic and cost nothing unless used.
 */
final class MaglevStrategy extends HashStrategy {
  /** The default table size: the prime the Maglev paper uses for its smaller tables. */
  static final int DEFAULT_TABLE_SIZE = 65_537;

  private static final String OWNER = "owner of the key's table slot";
  private static final String SPILL =
      "the key's table owner is at its cap; next in the key's rendezvous order";

  private final RoutingKey key;
  private final int tableSize;

  MaglevStrategy(RoutingKey key, int tableSize) {
    this.key = key;
    this.tableSize = tableSize;
  }

  @Override
  public String name() {
    return "maglev";
  }

  /** The name and the table size, which decides every slot's owner. */
  @Override
  public String decisionParameters() {
    return "maglev table=" + tableSize;
  }

  @Override
  RoutingKey key() {
    return key;
  }

  /**
   * Builds the table, or reuses the previous snapshot's when the UP members and their weights are
   * the same (a change of another member's state, or of a DOWN member, moves no slot).
   */
  @Override
  MaglevSelector build(Membership membership, Selectors.@Nullable Snapshot previous) {
    RendezvousStrategy.Prepared order = RendezvousStrategy.Prepared.of(membership);
    int[] weights = order.integerWeights();
    if (previous instanceof MaglevSelector) {
      Table t = ((MaglevSelector) previous).table;
      if (Arrays.equals(t.order.idHashes, order.idHashes) && Arrays.equals(t.weights, weights)) {
        return new MaglevSelector(order, key, t);
      }
    }
    return new MaglevSelector(order, key, new Table(order, weights, tableSize));
  }

  /** The slot of a key hash: see {@link Maglev#slot}. */
  static int slot(long keyHash, int size) {
    return Maglev.slot(keyHash, size);
  }

  /** The table for {@code membership}, as a direct caller would get it. */
  Table table(Membership membership) {
    return ((MaglevSelector) selectorFor(membership)).table;
  }

  @Override
  public String toString() {
    return "AffinityStrategy.maglev("
        + key
        + (tableSize == DEFAULT_TABLE_SIZE ? "" : ", " + tableSize)
        + ")";
  }

  /** One snapshot's selector: the table, and the rendezvous order for spill-over and failover. */
  static final class MaglevSelector extends HashSelector {
    final RendezvousStrategy.Prepared order;
    final Table table;

    MaglevSelector(RendezvousStrategy.Prepared order, RoutingKey key, Table table) {
      super(key, order.up);
      this.order = order;
      this.table = table;
    }

    @Override
    public Membership membership() {
      return order.membership;
    }

    @Override
    Member[] up() {
      return order.up;
    }

    @Override
    @Nullable Member owner(long keyHash) {
      return order.up.length == 0
          ? null
          : order.up[table.slots[Maglev.slot(keyHash, table.slots.length)]];
    }

    @Override
    Member[] order(long keyHash) {
      return order.ordered(keyHash);
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
      return "maglev selector at version " + order.membership.version();
    }
  }

  /**
   * One lookup table: slot to index into the UP members of {@code order}, the snapshot it was built
   * for; later snapshots with the same UP ids and weights share it.
   */
  static final class Table {
    final RendezvousStrategy.Prepared order;
    final int[] weights;
    final int[] slots;

    Table(RendezvousStrategy.Prepared order, int[] weights, int size) {
      this.order = order;
      this.weights = weights;
      this.slots = Maglev.populate(order.idHashes, weights, size);
    }
  }
}

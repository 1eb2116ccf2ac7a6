package dev.affinity.strategy;

import dev.affinity.Outcome;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** A strategy that routes a key hash to its owner: rendezvous or a Maglev table. */
abstract class HashStrategy extends SnapshotStrategy {
  static final Selection KEY_ABSENT = Selection.abstain("no key in the request");
  static final Selection NO_UP = Selection.abstain("no backend is UP");
  static final Selection ALL_FULL = Selection.abstain("every UP backend is at its cap");

  /** The key this strategy hashes. */
  abstract RoutingKey key();

  /** The selector of one snapshot: the owner of a key hash, and the key's order to spill along. */
  abstract static class HashSelector implements Selectors.Snapshot {
    final RoutingKey key;

    /**
     * Whether any UP member has a connection cap. Without one every member always has capacity, so
     * a select never reads the owner's cap and live count: the lookup stays one table read and one
     * member reference, whatever the number of members.
     */
    private final boolean capped;

    HashSelector(RoutingKey key, Member[] up) {
      this.key = key;
      boolean any = false;
      for (Member m : up) {
        any |= m.backend().maxConnections().isPresent();
      }
      this.capped = any;
    }

    /** The UP members. */
    abstract Member[] up();

    /** The owner of {@code keyHash} among the UP members, ignoring caps and loads; null if none. */
    abstract @Nullable Member owner(long keyHash);

    /** The UP members in the key's order, best first. Allocates: for spill-over and failover. */
    abstract Member[] order(long keyHash);

    abstract String ownerReason();

    abstract String spillReason();

    @Override
    public final Selection select(RoutingRequest request) {
      long k = key.hash(request);
      if (k == RoutingKey.ABSENT) {
        return KEY_ABSENT;
      }
      return selectHash(k);
    }

    /** Chooses for a key hash already computed (JWT affinity hashes verified claims). */
    final Selection selectHash(long k) {
      Member owner = owner(k);
      if (owner == null) {
        return NO_UP;
      }
      if (!capped || owner.hasCapacity()) {
        return Selection.chosen(owner, Outcome.AFFINITY_HIT, ownerReason(), k);
      }
      for (Member m : order(k)) {
        if (m.hasCapacity()) {
          return Selection.chosen(m, Outcome.SPILL_OVER, spillReason(), k);
        }
      }
      return ALL_FULL;
    }

    @Override
    public final @Nullable Member ownerOf(long keyHash) {
      return owner(keyHash);
    }

    @Override
    public final List<Member> failoverCandidates(
        Membership membership, long keyHash, Member chosen, int limit) {
      if (keyHash == RoutingKey.ABSENT) {
        return Candidates.leastLoaded(membership, chosen, limit);
      }
      List<Member> out = new ArrayList<>();
      for (Member m : order(keyHash)) {
        if (out.size() < limit && !m.id().equals(chosen.id()) && m.hasCapacity()) {
          out.add(m);
        }
      }
      return out;
    }

    @Override
    public @Nullable String describeKey(RoutingRequest request) {
      return key.describe(request);
    }
  }
}

package dev.affinity.strategy;

import dev.affinity.Outcome;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Consistent hashing with bounded loads over a rendezvous or Maglev {@link HashStrategy}. */
final class BoundedLoadStrategy extends SnapshotStrategy {
  private static final Selection ALL_FULL =
      Selection.abstain("every UP backend is at its bounded load or cap");
  private static final String OWNER = "owner of the key, under its bounded load";
  private static final String SPILL =
      "the key's owner is at its bounded load; next in the key's order with room";

  private final HashStrategy inner;
  private final double factor;

  BoundedLoadStrategy(HashStrategy inner, double factor) {
    this.inner = inner;
    this.factor = factor;
  }

  @Override
  public String name() {
    return "bounded-load(" + inner.name() + ")";
  }

  /** The hash strategy's parameters and the load factor. */
  @Override
  public String decisionParameters() {
    return "bounded-load(" + inner.decisionParameters() + ", factor=" + factor + ")";
  }

  @Override
  BoundedSelector build(Membership membership, Selectors.@Nullable Snapshot previous) {
    Selectors.Snapshot innerPrevious =
        previous instanceof BoundedSelector ? ((BoundedSelector) previous).inner : null;
    return new BoundedSelector(
        (HashStrategy.HashSelector) inner.build(membership, innerPrevious), factor);
  }

  static long bound(double perWeight, double weight) {
    return (long) Math.ceil(perWeight * weight);
  }

  private static boolean hasRoom(Member m, double perWeight) {
    return m.hasCapacity() && m.fleetConnections() < bound(perWeight, m.effectiveWeight());
  }

  @Override
  public String toString() {
    return "AffinityStrategy.boundedLoad(" + inner + ", " + factor + ")";
  }

  /** The inner strategy's selector with the load bound applied at select time. */
  static final class BoundedSelector implements Selectors.Snapshot {
    final HashStrategy.HashSelector inner;
    private final double factor;

    BoundedSelector(HashStrategy.HashSelector inner, double factor) {
      this.inner = inner;
      this.factor = factor;
    }

    @Override
    public Membership membership() {
      return inner.membership();
    }

    @Override
    public Selection select(RoutingRequest request) {
      long k = inner.key.hash(request);
      if (k == RoutingKey.ABSENT) {
        return HashStrategy.KEY_ABSENT;
      }
      Member[] up = inner.up();
      Member owner = inner.owner(k);
      if (owner == null) {
        return HashStrategy.NO_UP;
      }
      long live = 0;
      double totalWeight = 0;
      for (Member m : up) {
        live += m.fleetConnections();
        totalWeight += m.effectiveWeight();
      }
      // The bound after placing this connection: ceil(c * (live + 1) * w / W).
      double perWeight = factor * (live + 1) / totalWeight;
      if (hasRoom(owner, perWeight)) {
        return Selection.chosen(owner, Outcome.AFFINITY_HIT, OWNER, k);
      }
      for (Member m : inner.order(k)) {
        if (hasRoom(m, perWeight)) {
          return Selection.chosen(m, Outcome.SPILL_OVER, SPILL, k);
        }
      }
      return ALL_FULL;
    }

    /** The key's owner ignoring loads: a spilled connection is not re-homed for spilling. */
    @Override
    public @Nullable Member ownerOf(long keyHash) {
      return inner.ownerOf(keyHash);
    }

    @Override
    public List<Member> failoverCandidates(
        Membership membership, long keyHash, Member chosen, int limit) {
      return inner.failoverCandidates(membership, keyHash, chosen, limit);
    }

    @Override
    public @Nullable String describeKey(RoutingRequest request) {
      return inner.describeKey(request);
    }
  }
}

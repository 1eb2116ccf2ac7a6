package dev.affinity.strategy;

import dev.affinity.Outcome;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Consistent hashing with bounded loads over an {@link OrderedHash}: rendezvous or the rendezvous
 * table; spill-over walks the wrapped strategy's order for the key.
 */
final class BoundedLoadStrategy implements AffinityStrategy {
  private static final Selection KEY_ABSENT = Selection.abstain("no key in the request");
  private static final Selection NO_UP = Selection.abstain("no backend is UP");
  private static final Selection ALL_FULL =
      Selection.abstain("every UP backend is at its bounded load or cap");
  private static final String OWNER = "owner of the key, under its bounded load";
  private static final String SPILL =
      "the key's owner is at its bounded load; next in the key's order with room";

  private final OrderedHash inner;
  private final double factor;

  BoundedLoadStrategy(OrderedHash inner, double factor) {
    this.inner = inner;
    this.factor = factor;
  }

  @Override
  public String name() {
    return "bounded-load(" + inner.name() + ")";
  }

  @Override
  public Selection select(RoutingRequest request, Membership membership) {
    long k = inner.key().hash(request);
    if (k == RoutingKey.ABSENT) {
      return KEY_ABSENT;
    }
    Member[] up = membership.upMembers();
    Member owner = inner.owner(k, membership);
    if (up.length == 0 || owner == null) {
      return NO_UP;
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
      return Selection.chosen(owner, Outcome.AFFINITY_HIT, OWNER, inner.key());
    }
    for (Member m : inner.order(k, membership)) {
      if (hasRoom(m, perWeight)) {
        return Selection.chosen(m, Outcome.SPILL_OVER, SPILL, inner.key());
      }
    }
    return ALL_FULL;
  }

  static long bound(double perWeight, double weight) {
    return (long) Math.ceil(perWeight * weight);
  }

  private static boolean hasRoom(Member m, double perWeight) {
    return m.hasCapacity() && m.fleetConnections() < bound(perWeight, m.effectiveWeight());
  }

  @Override
  public RoutingKey routingKey() {
    return inner.key();
  }

  /** The key's owner ignoring loads: a spilled connection is not re-homed for spilling. */
  @Override
  public @Nullable Member ownerOf(long keyHash, Membership membership) {
    return inner.ownerOf(keyHash, membership);
  }

  @Override
  public List<Member> failoverCandidates(
      RoutingRequest request, Membership membership, Member chosen, int limit) {
    return inner.failoverCandidates(request, membership, chosen, limit);
  }

  @Override
  public String toString() {
    return "AffinityStrategy.boundedLoad(" + inner + ", " + factor + ")";
  }
}

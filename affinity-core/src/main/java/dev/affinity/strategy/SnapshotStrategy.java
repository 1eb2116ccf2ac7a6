package dev.affinity.strategy;

import static java.util.Objects.requireNonNull;

import dev.affinity.RoutingRequest;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A built-in strategy: all its per-snapshot state is built by {@link #build}, which a router calls
 * once per published snapshot. {@link #select(RoutingRequest, Membership)} exists for direct
 * callers (tests, simulators), who get the selector of the last snapshot they asked about.
 */
abstract class SnapshotStrategy implements AffinityStrategy {
  /**
   * Only for direct callers of {@link #select(RoutingRequest, Membership)}; routers never use it.
   */
  private volatile Selectors.@Nullable Snapshot direct;

  /**
   * Builds the selector for {@code membership}; {@code previous} is this strategy's selector for an
   * earlier snapshot, or null.
   */
  abstract Selectors.Snapshot build(Membership membership, Selectors.@Nullable Snapshot previous);

  @Override
  public final Selector selector(Membership membership, @Nullable Selector previous) {
    requireNonNull(membership, "membership");
    return build(
        membership, previous instanceof Selectors.Snapshot ? (Selectors.Snapshot) previous : null);
  }

  @Override
  public final Selection select(RoutingRequest request, Membership membership) {
    return selectorFor(membership).select(request);
  }

  /**
   * The failover order a router would use after this strategy chose {@code chosen} for {@code
   * request}; for tests.
   */
  final List<Member> failoverCandidates(
      RoutingRequest request, Membership membership, Member chosen, int limit) {
    Selectors.Snapshot s = selectorFor(membership);
    return s.failoverCandidates(membership, s.select(request).keyHash(), chosen, limit);
  }

  /** The selector for {@code membership}, reusing the last one built for a direct call. */
  final Selectors.Snapshot selectorFor(Membership membership) {
    Selectors.Snapshot s = direct;
    if (s == null || s.membership() != membership) {
      s = build(membership, s);
      direct = s;
    }
    return s;
  }
}

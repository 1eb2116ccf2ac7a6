package dev.affinity.strategy;

import dev.affinity.RoutingRequest;
import dev.affinity.backend.Membership;

/** Selector plumbing shared by the strategies. */
final class Selectors {
  private Selectors() {}

  /** A built-in selector, which knows the snapshot it was built for. */
  interface Snapshot extends Selector {
    Membership membership();
  }

  /** The default selector: the strategy's own {@code select(request, membership)} per request. */
  static final class PerRequest implements Selector {
    private final AffinityStrategy strategy;
    private final Membership membership;

    PerRequest(AffinityStrategy strategy, Membership membership) {
      this.strategy = strategy;
      this.membership = membership;
    }

    @Override
    public Selection select(RoutingRequest request) {
      return strategy.select(request, membership);
    }

    @Override
    public String toString() {
      return strategy + " at version " + membership.version();
    }
  }
}

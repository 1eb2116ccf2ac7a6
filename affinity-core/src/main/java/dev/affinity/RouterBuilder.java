package dev.affinity;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.backend.BackendGroup;
import dev.affinity.metrics.GuardedRoutingListener;
import dev.affinity.metrics.RoutingListener;
import dev.affinity.strategy.AffinityStrategy;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Builds a {@link Router}. Obtain one from {@link Router#builder(BackendGroup)}.
 *
 * <p>Defaults: no strategies (every client gets a first pick), fallback {@link
 * AffinityStrategy#leastConnections()}, no listener, {@value #DEFAULT_MAX_FAILOVER_CANDIDATES}
 * failover candidates.
 */
public final class RouterBuilder {
  /** How many further backends a decision offers for connect failover unless told otherwise. */
  public static final int DEFAULT_MAX_FAILOVER_CANDIDATES = 2;

  private final BackendGroup group;
  private final List<AffinityStrategy> strategies = new ArrayList<>();
  private @Nullable AffinityStrategy fallback;
  private final List<RoutingListener> listeners = new ArrayList<>();
  private int maxFailoverCandidates = DEFAULT_MAX_FAILOVER_CANDIDATES;

  RouterBuilder(BackendGroup group) {
    this.group = group;
  }

  /** Appends a strategy; strategies are asked in the order added. */
  public RouterBuilder strategy(AffinityStrategy strategy) {
    strategies.add(requireNonNull(strategy, "strategy"));
    return this;
  }

  /** Appends several strategies in order. */
  public RouterBuilder strategies(AffinityStrategy... strategies) {
    for (AffinityStrategy s : strategies) {
      strategy(s);
    }
    return this;
  }

  /**
   * The strategy that decides when every other abstains; default {@link
   * AffinityStrategy#leastConnections()}. A hash strategy may be the fallback, but then clients
   * without its key get no backend.
   */
  public RouterBuilder fallback(AffinityStrategy fallback) {
    this.fallback = requireNonNull(fallback, "fallback");
    return this;
  }

  /** Adds a listener; several are called in the order added. */
  public RouterBuilder listener(RoutingListener listener) {
    listeners.add(requireNonNull(listener, "listener"));
    return this;
  }

  /**
   * How many further backends a decision offers for connect failover; 0 disables failover.
   *
   * @throws AffinityConfigurationException unless 0..100
   */
  public RouterBuilder maxFailoverCandidates(int max) {
    check(max >= 0 && max <= 100, "maxFailoverCandidates", max, "0..100");
    this.maxFailoverCandidates = max;
    return this;
  }

  /**
   * Returns an immutable router.
   *
   * @throws AffinityConfigurationException if the same strategy instance is used twice
   */
  public Router build() {
    AffinityStrategy fb = fallback == null ? AffinityStrategy.leastConnections() : fallback;
    IdentityHashMap<AffinityStrategy, Boolean> seen = new IdentityHashMap<>();
    for (AffinityStrategy s : strategies) {
      check(seen.put(s, true) == null, "strategies", s, "each strategy instance once");
    }
    check(!seen.containsKey(fb), "fallback", fb, "a strategy not also in strategies");
    return new Router(
        group, strategies, fb, GuardedRoutingListener.of(listeners), maxFailoverCandidates);
  }
}

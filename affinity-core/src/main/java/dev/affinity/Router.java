package dev.affinity;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import com.google.common.collect.ImmutableList;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.ConnectionCloser;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.lifecycle.OutlierDetector;
import dev.affinity.metrics.GuardedRoutingListener;
import dev.affinity.metrics.RoutingListener;
import dev.affinity.metrics.RoutingStats;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.RoutingKey;
import dev.affinity.strategy.Selection;
import dev.affinity.strategy.Selector;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Decides which backend a WebSocket handshake goes to.
 *
 * <pre>{@code
 * BackendGroup group = BackendGroup.of(
 *     Backend.of("ws-1", "10.0.0.1", 8080),
 *     Backend.of("ws-2", "10.0.0.2", 8080));
 * Router router = Router.builder(group)
 *     .strategy(AffinityStrategy.sourceIp())           // sticky by client address
 *     .fallback(AffinityStrategy.leastConnections())   // when no strategy decides
 *     .build();
 *
 * RoutingDecision decision = router.select(request);
 * if (decision.hasBackend()) {
 *   // once connected; close the lease when the connection ends
 *   ConnectionLease lease = decision.openLease(decision.backend(), closer);
 * }
 * }</pre>
 *
 * <p>{@link #select} asks the strategies in order, then the fallback. It reads one membership
 * snapshot without locks, never returns null, and never throws for "no backend" or bad client
 * input: those are {@linkplain Outcome outcomes}. A router is immutable and thread-safe; membership
 * changes go through its {@link BackendGroup}.
 *
 * <p>Each strategy turns every snapshot the group publishes into a {@link Selector}, once, on the
 * publishing thread ({@link AffinityStrategy#selector}); a select only reads the selectors of the
 * newest snapshot. A router follows its group from {@link Builder#build()} until {@link #close()},
 * which detaches it (a router rebuilt for a key rotation must close the old one). It starts no
 * thread.
 */
public final class Router implements AutoCloseable {
  /** The strategy used when a builder names no fallback. */
  public static final String DEFAULT_FALLBACK = "least-connections";

  private static final String NONE_DECIDED = "no strategy chose a backend";
  private static final String NONE_UP = "no backend is UP";

  static {
    // Loads the class now: the JIT does not inline RoutingDecision's constructor into select while
    // a class its signature names is not loaded yet, and Abstention is otherwise loaded by the
    // first abstention, which may come after select is compiled.
    requireNonNull(Abstention.class);
  }

  private final RouterCore core;
  private final ImmutableList<AffinityStrategy> strategies;
  private final AffinityStrategy fallback;
  private final RouterCore.@Nullable StateReporter reporter;
  private final @Nullable RoutingStats stats;

  Router(
      BackendGroup group,
      List<AffinityStrategy> strategies,
      AffinityStrategy fallback,
      List<RoutingListener> listeners,
      int maxFailoverCandidates) {
    RoutingListener listener = GuardedRoutingListener.of(listeners);
    RoutingStats firstStats = null;
    for (RoutingListener l : listeners) {
      if (l instanceof RoutingStats) {
        firstStats = (RoutingStats) l;
        break;
      }
    }
    this.stats = firstStats;
    this.strategies = ImmutableList.copyOf(strategies);
    this.fallback = fallback;
    this.core =
        new RouterCore(
            group,
            ImmutableList.<AffinityStrategy>builder().addAll(strategies).add(fallback).build(),
            listener,
            maxFailoverCandidates);
    // Listen first, then build: a snapshot published in between is built by the listener.
    group.addListener(core);
    try {
      core.publish(group.snapshot());
    } catch (AffinityConfigurationException e) {
      group.removeListener(core);
      throw e;
    }
    if (listener != RoutingListener.NOOP) {
      reporter = new RouterCore.StateReporter(listener);
      group.addListener(reporter);
    } else {
      reporter = null;
    }
  }

  /** Returns a builder for a router over {@code group}. */
  public static Builder builder(BackendGroup group) {
    return new Builder(requireNonNull(group, "group"));
  }

  /**
   * Decides where {@code request} goes. Lock-free; never null; never throws for "no backend", a bad
   * header, a forged cookie or a bad token. Builds nothing per snapshot: it reads the selectors
   * built when the snapshot was published.
   */
  public RoutingDecision select(RoutingRequest request) {
    requireNonNull(request, "request");
    RouterCore.State state = core.state();
    Selector[] selectors = state.selectors;
    Abstention abstentions = null;
    boolean affinityLost = false;
    for (int i = 0; i < selectors.length; i++) {
      Selection sel;
      try {
        sel = selectors[i].select(request);
        requireNonNull(sel, "selection");
      } catch (RuntimeException e) {
        core.listener.strategyFailed(core.chain[i].name(), e);
        abstentions =
            new Abstention(
                core.chain[i].name(), "failed: " + e.getClass().getSimpleName(), abstentions);
        continue;
      }
      // An if chain rather than a switch: a switch on another class's enum reads a synthetic
      // ordinal map on every select.
      Selection.Kind kind = sel.kind();
      if (kind != Selection.Kind.CHOSEN) {
        if (kind == Selection.Kind.ABSTAIN) {
          abstentions = new Abstention(core.chain[i].name(), sel.reason(), abstentions);
          affinityLost |= sel.isAffinityLost();
          continue;
        }
        Outcome refused = kind == Selection.Kind.REJECT ? Outcome.REJECTED : Outcome.NO_BACKEND;
        return decided(state, request, refused, null, i, sel.reason(), abstentions);
      }
      Member m = sel.member();
      if (m == null || !state.membership.contains(m) || m.state() == BackendState.DOWN) {
        // A custom strategy broke the contract: never route to a DOWN or foreign member.
        core.listener.strategyFailed(
            core.chain[i].name(),
            new IllegalStateException("chose a member that is DOWN or not in the snapshot"));
        abstentions =
            new Abstention(core.chain[i].name(), "failed: chose an unusable member", abstentions);
        continue;
      }
      RoutingDecision veto = veto(state, request, i);
      if (veto != null) {
        return veto;
      }
      Outcome outcome = requireNonNull(sel.outcome());
      if (affinityLost && outcome == Outcome.FIRST_ASSIGNMENT) {
        outcome = Outcome.FAILOVER;
      }
      SetCookie cookie = sel.cookie();
      if (cookie == null) {
        cookie = cookieFrom(state, i, request, m, outcome);
      }
      RoutingDecision d =
          new RoutingDecision(
              state, request, m, outcome, i, sel.reason(), sel.keyHash(), cookie, abstentions);
      core.listener.decisionMade(d);
      return d;
    }
    return decided(
        state,
        request,
        Outcome.NO_BACKEND,
        null,
        -1,
        state.membership.upMembers().length == 0 ? NONE_UP : NONE_DECIDED,
        abstentions);
  }

  private RoutingDecision decided(
      RouterCore.State state,
      RoutingRequest request,
      Outcome outcome,
      @Nullable Member member,
      int index,
      String reason,
      @Nullable Abstention abstentions) {
    RoutingDecision d =
        new RoutingDecision(
            state, request, member, outcome, index, reason, RoutingKey.ABSENT, null, abstentions);
    core.listener.decisionMade(d);
    return d;
  }

  /** A later strategy's veto of a choice (an invalid token under a reject policy), or null. */
  private @Nullable RoutingDecision veto(
      RouterCore.State state, RoutingRequest request, int chose) {
    for (int j : state.vetoers) {
      if (j <= chose) {
        continue;
      }
      Selection v;
      try {
        v = state.selectors[j].veto(request);
      } catch (RuntimeException e) {
        core.listener.strategyFailed(core.chain[j].name(), e);
        continue;
      }
      if (v != null && v.kind() == Selection.Kind.REJECT) {
        return decided(state, request, Outcome.REJECTED, null, j, v.reason(), null);
      }
    }
    return null;
  }

  /** The first cookie a strategy other than the decider wants set, or null. */
  static @Nullable SetCookie cookieFrom(
      RouterCore.State state, int decider, RoutingRequest request, Member m, Outcome outcome) {
    Selector[] selectors = state.selectors;
    for (int j : state.cookieIssuers) {
      if (j == decider) {
        continue;
      }
      SetCookie cookie;
      try {
        cookie = selectors[j].cookieFor(request, m, outcome);
      } catch (RuntimeException e) {
        state.core.listener.strategyFailed(state.core.chain[j].name(), e);
        continue;
      }
      if (cookie != null) {
        return cookie;
      }
    }
    return null;
  }

  /**
   * Counts a connection the caller opened to {@code backend}; close the lease when it ends.
   *
   * @deprecated use {@link RoutingDecision#openLease(Backend, ConnectionCloser)}, which also lets
   *     the lifecycle machinery close the connection and re-home it
   */
  @Deprecated
  @SuppressWarnings("deprecation")
  public ConnectionLease openConnection(Backend backend) {
    return core.observed(core.group.openConnection(requireNonNull(backend, "backend")));
  }

  /**
   * Counts a connection the caller opened to {@code backend} that the lifecycle machinery may close
   * through {@code closer}.
   *
   * @deprecated use {@link RoutingDecision#openLease(Backend, ConnectionCloser)}, which also
   *     enables selective re-homing
   */
  @Deprecated
  @SuppressWarnings("deprecation")
  public ConnectionLease openConnection(Backend backend, ConnectionCloser closer) {
    return core.observed(
        core.group.openConnection(
            requireNonNull(backend, "backend"), requireNonNull(closer, "closer")));
  }

  /**
   * Tells the router that connecting or handshaking with {@code backend} failed: listeners (and
   * passive health checking, when configured: see {@link dev.affinity.lifecycle.OutlierDetector})
   * hear it. Adapters call this before trying the next candidate.
   */
  public void reportConnectFailure(Backend backend, Throwable cause) {
    core.listener.connectFailed(requireNonNull(backend, "backend"), requireNonNull(cause, "cause"));
  }

  /** The group this router reads. */
  public BackendGroup group() {
    return core.group;
  }

  /** The strategies asked in order, without the fallback. */
  public List<AffinityStrategy> strategies() {
    return strategies;
  }

  /** The strategy that decides when all others abstain. */
  public AffinityStrategy fallback() {
    return fallback;
  }

  /**
   * The first {@link RoutingStats} registered with {@link Builder#listener}, or null: what a
   * metrics binding (such as {@code AffinityMetrics.of(router)}) reads, so that the stats are
   * registered once.
   */
  public @Nullable RoutingStats stats() {
    return stats;
  }

  /**
   * The fingerprint of the current membership: equal on instances that see the same backends,
   * weights and states. See {@link Membership#fingerprint()}.
   */
  public String membershipFingerprint() {
    return core.group.snapshot().fingerprint();
  }

  /**
   * The fingerprint of what this router's hash decisions depend on: the current membership's
   * {@linkplain Membership#fingerprint() fingerprint} and every strategy's {@linkplain
   * AffinityStrategy#decisionParameters() parameters}, the fallback's included, in chain order (a
   * rendezvous table's bucket count, a Maglev table's size). Two instances with equal router
   * fingerprints send a key to the same backend; compare them across a fleet. 16 hex digits of a
   * SHA-256, computed when asked.
   */
  public String fingerprint() {
    return core.fingerprint(core.group.snapshot());
  }

  /**
   * Detaches this router from its group: it stops following membership changes and stops reporting
   * them to its listener. Decisions already made, and their leases, keep working; later selects see
   * the last snapshot it followed. Idempotent.
   */
  @Override
  public void close() {
    core.group.removeListener(core);
    if (reporter != null) {
      core.group.removeListener(reporter);
    }
  }

  @Override
  public String toString() {
    return "Router{strategies=" + strategies + ", fallback=" + fallback + "}";
  }

  /** One strategy's abstention, linked newest first; allocated only when a strategy abstains. */
  static final class Abstention {
    final String strategy;
    final String reason;
    final @Nullable Abstention previous;

    Abstention(String strategy, String reason, @Nullable Abstention previous) {
      this.strategy = strategy;
      this.reason = reason;
      this.previous = previous;
    }
  }

  /**
   * Builds a {@link Router}. Obtain one from {@link Router#builder(BackendGroup)}.
   *
   * <p>Settings that take one value ({@link #fallback}, {@link #maxFailoverCandidates}) may be set
   * once: setting one again throws {@link IllegalStateException} naming the value already set, as a
   * second call is almost always a configuration mistake. Strategies and listeners accumulate.
   *
   * <p>Defaults: no strategies (every client gets a first pick), fallback {@link
   * AffinityStrategy#leastConnections()}, no listener, no outlier detection, {@value
   * #DEFAULT_MAX_FAILOVER_CANDIDATES} failover candidates.
   */
  public static final class Builder {
    /** How many further backends a decision offers for connect failover unless told otherwise. */
    public static final int DEFAULT_MAX_FAILOVER_CANDIDATES = 2;

    private final BackendGroup group;
    private final List<AffinityStrategy> strategies = new ArrayList<>();
    private @Nullable AffinityStrategy fallback;
    private final List<RoutingListener> listeners = new ArrayList<>();
    private int maxFailoverCandidates = DEFAULT_MAX_FAILOVER_CANDIDATES;
    private boolean maxFailoverCandidatesSet;
    private @Nullable OutlierDetector outlierDetector;

    Builder(BackendGroup group) {
      this.group = group;
    }

    /** Appends a strategy; strategies are asked in the order added. */
    public Builder strategy(AffinityStrategy strategy) {
      strategies.add(requireNonNull(strategy, "strategy"));
      return this;
    }

    /** Appends several strategies in order. */
    public Builder strategies(AffinityStrategy... strategies) {
      for (AffinityStrategy s : strategies) {
        strategy(s);
      }
      return this;
    }

    /**
     * The strategy that decides when every other abstains; default {@link
     * AffinityStrategy#leastConnections()}. A hash strategy may be the fallback, but then clients
     * without its key get no backend.
     *
     * @throws IllegalStateException if already set
     */
    public Builder fallback(AffinityStrategy fallback) {
      requireNonNull(fallback, "fallback");
      AffinityStrategy set = this.fallback;
      if (set != null) {
        throw new IllegalStateException("fallback was already set to " + set.name());
      }
      this.fallback = fallback;
      return this;
    }

    /**
     * Passive health checking: {@code detector} hears this router's connect failures and successful
     * connections (after the listeners added with {@link #listener}) and ejects backends that keep
     * failing. The one way to register a detector: do not also add it as a listener. The caller
     * still {@linkplain OutlierDetector#close() closes} it.
     *
     * @throws IllegalStateException if already set
     */
    public Builder outlierDetection(OutlierDetector detector) {
      requireNonNull(detector, "detector");
      OutlierDetector set = this.outlierDetector;
      if (set != null) {
        throw new IllegalStateException("outlierDetection was already set to " + set);
      }
      this.outlierDetector = detector;
      return this;
    }

    /** Adds a listener; several are called in the order added. */
    public Builder listener(RoutingListener listener) {
      listeners.add(requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * How many further backends a decision offers for connect failover; 0 disables failover.
     *
     * @throws AffinityConfigurationException unless 0..100
     * @throws IllegalStateException if already set
     */
    public Builder maxFailoverCandidates(int max) {
      if (maxFailoverCandidatesSet) {
        throw new IllegalStateException(
            "maxFailoverCandidates was already set to " + maxFailoverCandidates);
      }
      check(max >= 0 && max <= 100, "maxFailoverCandidates", max, "0..100");
      this.maxFailoverCandidates = max;
      this.maxFailoverCandidatesSet = true;
      return this;
    }

    /**
     * Returns an immutable router.
     *
     * @throws AffinityConfigurationException if the same strategy instance is used twice, the
     *     {@linkplain #outlierDetection outlier detector} is of another group or also added as a
     *     listener, or a strategy refuses the group (a cookie, JWT or learned strategy given a
     *     clock other than the group's, say)
     */
    public Router build() {
      AffinityStrategy fb = fallback == null ? AffinityStrategy.leastConnections() : fallback;
      IdentityHashMap<AffinityStrategy, Boolean> seen = new IdentityHashMap<>();
      for (AffinityStrategy s : strategies) {
        check(seen.put(s, true) == null, "strategies", s, "each strategy instance once");
      }
      check(!seen.containsKey(fb), "fallback", fb, "a strategy not also in strategies");
      List<RoutingListener> all = new ArrayList<>(listeners);
      OutlierDetector detector = outlierDetector;
      if (detector != null) {
        check(
            detector.group() == group,
            "outlierDetection",
            detector,
            "a detector built for this router's group (OutlierDetector.builder(group))");
        for (RoutingListener l : listeners) {
          check(
              l != detector,
              "listener",
              detector,
              "not also the outlierDetection: register a detector once");
        }
        all.add(detector);
      }
      return new Router(group, strategies, fb, all, maxFailoverCandidates);
    }
  }
}

package dev.affinity.metrics;

import static java.util.Objects.requireNonNull;

import dev.affinity.Outcome;
import dev.affinity.RoutingDecision;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.Membership;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * A {@link RoutingListener} that counts what a router does: decisions by outcome (so failovers,
 * spill-overs, rejections and "no backend" too), connections opened and connect failures per
 * backend, backend state transitions (health included), strategy failures, and the latest
 * membership version and fingerprint. Counters only grow; read them at any time from any thread.
 *
 * <pre>{@code
 * RoutingStats stats = RoutingStats.create();
 * Router router = Router.builder(group).listener(stats).build();
 * ...
 * long failovers = stats.decisions(Outcome.FAILOVER);
 * }</pre>
 *
 * <p>Counting is one {@link LongAdder} increment per event (plus a map lookup for per-backend
 * counts): no locks, nothing that blocks. Live connections are not counted here: {@link
 * dev.affinity.backend.BackendGroup#liveConnections()} has the exact figures. The {@code
 * affinity-micrometer} module publishes all of it to a Micrometer registry.
 */
// EnumOrdinal: the counters are arrays indexed by ordinal, built from values() in this process and
// never persisted, so the order cannot drift; an EnumMap would add a lookup on the routing path.
@SuppressWarnings("EnumOrdinal")
public final class RoutingStats implements RoutingListener {
  private static final Outcome[] OUTCOMES = Outcome.values();
  private static final int STATES = BackendState.values().length + 1; // + absent (added/removed)

  private final LongAdder[] decisions = adders(OUTCOMES.length);
  private final LongAdder[] transitions = adders(STATES * STATES);
  private final Map<String, LongAdder> opened = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> connectFailures = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> strategyFailures = new ConcurrentHashMap<>();
  private volatile @Nullable Membership membership;

  private RoutingStats() {}

  /** Returns stats with every counter at zero. */
  public static RoutingStats create() {
    return new RoutingStats();
  }

  private static LongAdder[] adders(int n) {
    LongAdder[] a = new LongAdder[n];
    for (int i = 0; i < n; i++) {
      a[i] = new LongAdder();
    }
    return a;
  }

  private static int index(@Nullable BackendState s) {
    return s == null ? STATES - 1 : s.ordinal();
  }

  @Override
  public void decisionMade(RoutingDecision decision) {
    decisions[decision.outcome().ordinal()].increment();
  }

  @Override
  public void strategyFailed(String strategy, Throwable error) {
    strategyFailures.computeIfAbsent(strategy, k -> new LongAdder()).increment();
  }

  @Override
  public void connectionOpened(Backend backend) {
    opened.computeIfAbsent(backend.id(), k -> new LongAdder()).increment();
  }

  @Override
  public void connectFailed(Backend backend, Throwable cause) {
    connectFailures.computeIfAbsent(backend.id(), k -> new LongAdder()).increment();
  }

  @Override
  public void backendStateChanged(
      Backend backend, @Nullable BackendState from, @Nullable BackendState to, String fingerprint) {
    transitions[index(from) * STATES + index(to)].increment();
  }

  @Override
  public void membershipChanged(Membership membership) {
    this.membership = membership;
  }

  /** Decisions with this outcome so far. */
  public long decisions(Outcome outcome) {
    return decisions[requireNonNull(outcome, "outcome").ordinal()].sum();
  }

  /** Decisions of every outcome so far. */
  public long decisions() {
    long n = 0;
    for (LongAdder a : decisions) {
      n += a.sum();
    }
    return n;
  }

  /** Connections opened (leases taken) against the backend with this id so far. */
  public long connectionsOpened(String backendId) {
    LongAdder a = opened.get(requireNonNull(backendId, "backendId"));
    return a == null ? 0 : a.sum();
  }

  /** Connect or handshake failures reported for the backend with this id so far. */
  public long connectFailures(String backendId) {
    LongAdder a = connectFailures.get(requireNonNull(backendId, "backendId"));
    return a == null ? 0 : a.sum();
  }

  /** Connect failures per backend id, sorted: a point-in-time copy. */
  public Map<String, Long> connectFailures() {
    return copy(connectFailures);
  }

  /** Connections opened per backend id, sorted: a point-in-time copy. */
  public Map<String, Long> connectionsOpened() {
    return copy(opened);
  }

  /** Failures per strategy name, sorted: a point-in-time copy. */
  public Map<String, Long> strategyFailures() {
    return copy(strategyFailures);
  }

  private static Map<String, Long> copy(Map<String, LongAdder> m) {
    Map<String, Long> out = new TreeMap<>();
    m.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  /**
   * Backend state transitions from {@code from} to {@code to} so far; a null {@code from} counts
   * additions, a null {@code to} removals. Health changes count: an ejection is {@code UP -> DOWN}.
   */
  public long transitions(@Nullable BackendState from, @Nullable BackendState to) {
    return transitions[index(from) * STATES + index(to)].sum();
  }

  /** The latest membership the router's group published, or null before the first change. */
  public @Nullable Membership membership() {
    return membership;
  }

  @Override
  public String toString() {
    Map<Outcome, Long> byOutcome = new java.util.EnumMap<>(Outcome.class);
    for (Outcome o : OUTCOMES) {
      byOutcome.put(o, decisions(o));
    }
    return "RoutingStats{decisions=" + byOutcome + ", connectFailures=" + connectFailures() + "}";
  }
}

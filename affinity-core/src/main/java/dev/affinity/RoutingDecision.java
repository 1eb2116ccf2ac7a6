package dev.affinity;

import static java.util.Objects.requireNonNull;

import com.google.common.collect.ImmutableList;
import dev.affinity.backend.Backend;
import dev.affinity.backend.ConnectionCloser;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.backend.LifecycleHooks;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.backend.OwnerLookup;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.RoutingKey;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The immutable answer of {@link Router#select}: which backend a handshake goes to (or why none),
 * which strategy decided and why, a cookie to set, and where to go if connecting fails.
 *
 * <pre>{@code
 * RoutingDecision decision = router.select(request);
 * if (!decision.hasBackend()) {
 *   respond(decision.httpStatus(), decision.reason()); // 503 or 401
 *   return;
 * }
 * Backend backend = decision.backend();
 * List<Backend> next = decision.failoverCandidates(); // try these if the connect fails
 * // once connected to `backend` (or to a candidate after a failover):
 * SetCookie cookie = decision.cookieFor(backend);     // add to the 101 response if not null
 * ConnectionLease lease = decision.openLease(backend, reason -> closeTunnel(reason));
 * }</pre>
 *
 * <p>A decision is a value: it holds what was decided (backend, outcome, strategy, reason, the
 * key's hash, the cookie) and the {@linkplain #membership() snapshot} it was decided under, never
 * the {@link Router}. The failover candidates, the cookie for a backend reached after a connect
 * failover, and the owner recorded with a lease for re-homing all come from the key hash the
 * deciding strategy computed once; nothing is hashed again. The explanation and the failover
 * candidates are computed only when asked for, so a decision is cheap to make and to drop.
 *
 * <p>The {@linkplain #request() request} is only read during the handshake, by {@link
 * #explanation()} and {@link #cookieFor(Backend)}: an adapter's request view need not outlive the
 * handshake, and a decision kept for a tunnel's life pins nothing an adapter recycles.
 */
public final class RoutingDecision {
  private final RouterCore.State state;
  private final RoutingRequest request;
  private final @Nullable Member member;
  // The outcome's ordinal in the low byte, the deciding strategy's index + 1 above it.
  private final int packed;
  private final String reason;
  private final long keyHash;
  private final @Nullable SetCookie cookie;
  private final Router.@Nullable Abstention abstentions;

  private static final Outcome[] OUTCOMES = Outcome.values();

  // EnumOrdinal: the outcome and the strategy index share one int so that a decision stays 48
  // bytes;
  // the ordinal never leaves this class and OUTCOMES maps it back in the same JVM.
  @SuppressWarnings("EnumOrdinal")
  RoutingDecision(
      RouterCore.State state,
      RoutingRequest request,
      @Nullable Member member,
      Outcome outcome,
      int strategyIndex,
      String reason,
      long keyHash,
      @Nullable SetCookie cookie,
      Router.@Nullable Abstention abstentions) {
    this.state = state;
    this.request = request;
    this.member = member;
    this.packed = outcome.ordinal() | ((strategyIndex + 1) << 8);
    this.reason = reason;
    this.keyHash = keyHash;
    this.cookie = cookie;
    this.abstentions = abstentions;
  }

  private int index() {
    return (packed >>> 8) - 1;
  }

  /** What kind of decision this is. */
  public Outcome outcome() {
    return OUTCOMES[packed & 0xff];
  }

  /**
   * Whether a backend was chosen; false for {@link Outcome#NO_BACKEND} and {@link
   * Outcome#REJECTED}.
   */
  public boolean hasBackend() {
    return member != null;
  }

  /**
   * The chosen backend.
   *
   * @throws IllegalStateException if {@link #hasBackend()} is false
   */
  public Backend backend() {
    if (member == null) {
      throw new IllegalStateException("no backend: " + outcome() + " (" + reason + ")");
    }
    return member.backend();
  }

  /** The chosen backend as a member of {@link #membership()}, or null. */
  public @Nullable Member member() {
    return member;
  }

  /**
   * The {@linkplain AffinityStrategy#name() name} of the strategy that decided, or {@code router}
   * when none did. The built-in names: {@code source-ip}, {@code rendezvous}, {@code maglev},
   * {@code bounded-load(<inner name>)}, {@code cookie}, {@code jwt}, {@code round-robin}, {@code
   * least-connections} and {@code p2c}.
   */
  public String strategy() {
    int i = index();
    return i < 0 ? "router" : state.core.chain[i].name();
  }

  /** Why the deciding strategy decided as it did: a short phrase, free of secrets. */
  public String reason() {
    return reason;
  }

  /**
   * The HTTP status an adapter answers when there is no backend: 401 for {@link Outcome#REJECTED},
   * 503 for {@link Outcome#NO_BACKEND}; 101 (the status the backend is expected to give) otherwise.
   */
  public int httpStatus() {
    switch (outcome()) {
      case REJECTED:
        return 401;
      case NO_BACKEND:
        return 503;
      default:
        return 101;
    }
  }

  /**
   * A cookie to add to the 101 response (next to the backend's own cookies), or null. The cookie
   * strategy sets one on first assignment, failover and spill-over.
   */
  public @Nullable SetCookie cookie() {
    return cookie;
  }

  /**
   * The cookie to set when the connection went to {@code connected}: {@link #cookie()} for {@link
   * #backend()} itself; for a {@linkplain #failoverCandidates() failover candidate} taken after a
   * connect failure, a cookie naming that candidate (so the client returns where it is connected,
   * not to the backend that failed), or null when no strategy sets cookies. Adapters call this
   * instead of {@link #cookie()} once they know where the connection went.
   */
  public @Nullable SetCookie cookieFor(Backend connected) {
    requireNonNull(connected, "connected");
    if (member == null || connected.id().equals(member.id())) {
      return cookie;
    }
    Member m = state.membership.member(connected.id());
    // The strategies see a connect failover to m; the deciding one is asked too.
    return m == null ? null : Router.cookieFrom(state, -1, request, m, Outcome.FAILOVER);
  }

  /**
   * The membership snapshot this decision was made under: {@link #member()} is one of its members,
   * and the failover candidates come from it.
   */
  public Membership membership() {
    return state.membership;
  }

  /**
   * The request this decision was made for. Read it only during the handshake: an adapter's view of
   * its native request is valid only until it answers.
   */
  public RoutingRequest request() {
    return request;
  }

  /**
   * Backends to try, in order, if connecting to {@link #backend()} fails: UP members with room,
   * never the chosen one, at most the router's {@code maxFailoverCandidates}. Hash strategies give
   * the key's own rendezvous order (from the key hash the decision carries: nothing is hashed
   * again), so failover is deterministic too. Empty without a backend. Computed on each call.
   */
  public List<Backend> failoverCandidates() {
    Member chosen = member;
    int i = index();
    if (chosen == null || i < 0) {
      return ImmutableList.of();
    }
    RouterCore core = state.core;
    List<Member> members;
    try {
      members =
          state.selectors[i].failoverCandidates(
              state.membership, keyHash, chosen, core.maxFailoverCandidates);
    } catch (RuntimeException e) {
      core.listener.strategyFailed(core.chain[i].name(), e);
      members =
          state.selectors[state.selectors.length - 1].failoverCandidates(
              state.membership, RoutingKey.ABSENT, chosen, core.maxFailoverCandidates);
    }
    return core.usable(members, chosen);
  }

  /**
   * Counts a connection the caller has just opened to {@code connected} (the {@link #backend()} or,
   * after a connect failover, one of the {@link #failoverCandidates()}), and registers how to close
   * it: drain deadlines, selective re-homing and maximum lifetimes (see {@link
   * dev.affinity.lifecycle.ConnectionLifecycle}) call {@code closer} when this connection must end.
   * Listeners hear {@code connectionOpened} now and {@code connectionClosed} when the lease closes.
   * The lease remembers the decision's key hash, so re-homing can tell whether a membership change
   * moved the key to another backend without hashing it again. Close the lease when the connection
   * ends, whoever ended it.
   *
   * <pre>{@code
   * ConnectionLease lease = decision.openLease(connectedTo, reason -> closeTunnel(reason));
   * ...
   * lease.close(); // when the tunnel ends
   * }</pre>
   *
   * @throws IllegalStateException if {@link #hasBackend()} is false
   */
  public ConnectionLease openLease(Backend connected, ConnectionCloser closer) {
    requireNonNull(connected, "connected");
    requireNonNull(closer, "closer");
    if (member == null) {
      throw new IllegalStateException("no backend: " + outcome() + " (" + reason + ")");
    }
    int i = index();
    OwnerLookup owner =
        keyHash == RoutingKey.ABSENT || i < 0
            ? null
            : new RouterCore.KeyOwner(state.core, i, keyHash);
    return state.core.observed(
        LifecycleHooks.openConnection(state.core.group, connected, closer, owner));
  }

  /**
   * Counts a connection to {@link #backend()} that the lifecycle machinery cannot close.
   *
   * @deprecated use {@link #openLease(Backend, ConnectionCloser)}
   * @throws IllegalStateException if {@link #hasBackend()} is false
   */
  @Deprecated
  public ConnectionLease openLease() {
    return untracked(backend());
  }

  /**
   * Counts a connection to {@code backend}, reached after failing over from {@link #backend()},
   * that the lifecycle machinery cannot close.
   *
   * @deprecated use {@link #openLease(Backend, ConnectionCloser)}
   */
  @Deprecated
  public ConnectionLease openLease(Backend backend) {
    requireNonNull(backend, "backend");
    backend();
    return untracked(backend);
  }

  /**
   * Counts a connection to {@link #backend()} that the lifecycle machinery may close through {@code
   * closer}.
   *
   * @deprecated use {@link #openLease(Backend, ConnectionCloser)} with {@link #backend()}
   * @throws IllegalStateException if {@link #hasBackend()} is false
   */
  @Deprecated
  @SuppressWarnings("InlineMeSuggester") // no Error Prone annotations dependency for @InlineMe
  public ConnectionLease openLease(ConnectionCloser closer) {
    return openLease(backend(), closer);
  }

  @SuppressWarnings("deprecation")
  private ConnectionLease untracked(Backend backend) {
    return state.core.observed(state.core.group.openConnection(backend));
  }

  /**
   * A human-readable account of the decision: what each strategy made of the request in order,
   * which key was used and where it came from, and the outcome. Built on each call; meant for debug
   * logs and error pages, never for the hot path. Contains no cookie values or tokens.
   */
  public String explanation() {
    List<String> parts = new ArrayList<>();
    List<Router.Abstention> abstained = new ArrayList<>();
    for (Router.Abstention a = abstentions; a != null; a = a.previous) {
      abstained.add(0, a);
    }
    for (Router.Abstention a : abstained) {
      parts.add(a.strategy + " abstained: " + a.reason);
    }
    StringBuilder last = new StringBuilder();
    if (member != null) {
      last.append(strategy()).append(" chose ").append(member.id());
      last.append(" (").append(outcome()).append("): ").append(reason);
      String described = describeKey();
      if (described != null) {
        last.append("; key ").append(described);
      }
    } else {
      last.append(outcome()).append(" from ").append(strategy()).append(": ").append(reason);
    }
    if (cookie != null) {
      last.append("; sets cookie ").append(cookie.name());
    }
    parts.add(last.toString());
    return String.join("; ", parts);
  }

  private @Nullable String describeKey() {
    int i = index();
    if (i < 0 || keyHash == RoutingKey.ABSENT) {
      return null;
    }
    try {
      return state.selectors[i].describeKey(request);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** The hash of the key the deciding strategy routed by, or {@link RoutingKey#ABSENT}. */
  public long keyHash() {
    return keyHash;
  }

  /** Outcome, backend and strategy; see {@link #explanation()} for the full story. */
  @Override
  public String toString() {
    return "RoutingDecision{"
        + outcome()
        + (member == null ? "" : ", backend=" + member.id())
        + ", strategy="
        + strategy()
        + ", reason="
        + reason
        + "}";
  }
}

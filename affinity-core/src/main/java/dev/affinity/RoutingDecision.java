package dev.affinity;

import static java.util.Objects.requireNonNull;

import com.google.common.collect.ImmutableList;
import dev.affinity.backend.Backend;
import dev.affinity.backend.ConnectionCloser;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
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
 * SetCookie cookie = decision.cookie();           // add to the 101 response if not null
 * List<Backend> next = decision.failoverCandidates(); // try these if the connect fails
 * }</pre>
 *
 * <p>The explanation and the failover candidates are computed only when asked for, so a decision is
 * cheap to make and to drop.
 */
public final class RoutingDecision {
  private final Router router;
  private final RoutingRequest request;
  private final Membership membership;
  private final Outcome outcome;
  private final @Nullable Member member;
  private final @Nullable AffinityStrategy strategy;
  private final String reason;
  private final @Nullable RoutingKey key;
  private final Router.@Nullable Abstention abstentions;
  private final @Nullable SetCookie cookie;
  private volatile @Nullable List<Backend> candidates;

  RoutingDecision(
      Router router,
      RoutingRequest request,
      Membership membership,
      Outcome outcome,
      @Nullable Member member,
      @Nullable AffinityStrategy strategy,
      String reason,
      @Nullable RoutingKey key,
      Router.@Nullable Abstention abstentions,
      @Nullable SetCookie cookie) {
    this.router = router;
    this.request = request;
    this.membership = membership;
    this.outcome = outcome;
    this.member = member;
    this.strategy = strategy;
    this.reason = reason;
    this.key = key;
    this.abstentions = abstentions;
    this.cookie = cookie;
  }

  RoutingDecision withCookie(SetCookie newCookie) {
    return new RoutingDecision(
        router,
        request,
        membership,
        outcome,
        member,
        strategy,
        reason,
        key,
        abstentions,
        newCookie);
  }

  /** What kind of decision this is. */
  public Outcome outcome() {
    return outcome;
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
      throw new IllegalStateException("no backend: " + outcome + " (" + reason + ")");
    }
    return member.backend();
  }

  /** The chosen backend as a member of {@link #membership()}, or null. */
  public @Nullable Member member() {
    return member;
  }

  /**
   * The name of the strategy that decided (such as {@code cookie} or {@code source-ip}), or {@code
   * router} when none did.
   */
  public String strategy() {
    return strategy == null ? "router" : strategy.name();
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
    switch (outcome) {
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
    Member m = membership.member(connected.id());
    return m == null ? null : router.cookieAfterConnectFailover(this, m);
  }

  /** The membership snapshot this decision was made under. */
  public Membership membership() {
    return membership;
  }

  /** The request this decision was made for. */
  public RoutingRequest request() {
    return request;
  }

  /**
   * Backends to try, in order, if connecting to {@link #backend()} fails: UP members with room,
   * never the chosen one, at most the router's {@code maxFailoverCandidates}. Hash strategies give
   * the key's own rendezvous order, so failover is deterministic too. Empty without a backend.
   * Computed on first call.
   */
  public List<Backend> failoverCandidates() {
    List<Backend> c = candidates;
    if (c == null) {
      c = member == null ? ImmutableList.of() : router.failoverCandidates(this, strategy, member);
      candidates = c;
    }
    return c;
  }

  /**
   * Counts a connection to {@link #backend()} that the caller has just opened. Close the lease when
   * the connection ends.
   *
   * @throws IllegalStateException if {@link #hasBackend()} is false
   */
  public ConnectionLease openLease() {
    return router.openConnection(backend());
  }

  /**
   * Counts a connection the caller opened to {@code backend} after failing over from {@link
   * #backend()}.
   */
  public ConnectionLease openLease(Backend backend) {
    return router.openConnection(requireNonNull(backend, "backend"));
  }

  /**
   * Counts a connection to {@link #backend()} that the caller has just opened, and registers how to
   * close it: drain deadlines, selective re-homing and maximum lifetimes (see {@link
   * dev.affinity.lifecycle.ConnectionLifecycle}) call {@code closer} when this connection must end.
   * The lease remembers this decision's routing key hash, so re-homing can tell whether a
   * membership change moved the key to another backend. Close the lease when the connection ends,
   * whoever ended it.
   *
   * @throws IllegalStateException if {@link #hasBackend()} is false
   */
  public ConnectionLease openLease(ConnectionCloser closer) {
    return router.openConnection(backend(), requireNonNull(closer, "closer"), this);
  }

  /**
   * Like {@link #openLease(ConnectionCloser)}, for a connection the caller opened to {@code
   * backend} after failing over from {@link #backend()}.
   */
  public ConnectionLease openLease(Backend backend, ConnectionCloser closer) {
    return router.openConnection(
        requireNonNull(backend, "backend"), requireNonNull(closer, "closer"), this);
  }

  /** The deciding strategy, or null when the router decided. */
  @Nullable AffinityStrategy decidingStrategy() {
    return strategy;
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
      last.append(" (").append(outcome).append("): ").append(reason);
      if (key != null) {
        String described = key.describe(request);
        if (described != null) {
          last.append("; key ").append(described);
        }
      }
    } else {
      last.append(outcome).append(" from ").append(strategy()).append(": ").append(reason);
    }
    if (cookie != null) {
      last.append("; sets cookie ").append(cookie.name());
    }
    parts.add(last.toString());
    return String.join("; ", parts);
  }

  /** Outcome, backend and strategy; see {@link #explanation()} for the full story. */
  @Override
  public String toString() {
    return "RoutingDecision{"
        + outcome
        + (member == null ? "" : ", backend=" + member.id())
        + ", strategy="
        + strategy()
        + ", reason="
        + reason
        + "}";
  }
}

package dev.affinity;

import static java.util.Objects.requireNonNull;

import com.google.common.collect.ImmutableList;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.ConnectionCloser;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.backend.MembershipListener;
import dev.affinity.backend.OwnerLookup;
import dev.affinity.metrics.RoutingListener;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.RoutingKey;
import dev.affinity.strategy.Selection;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
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
 *   ConnectionLease lease = decision.openLease();      // once connected; close when done
 * }
 * }</pre>
 *
 * <p>{@link #select} asks the strategies in order, then the fallback. It reads one membership
 * snapshot without locks, never returns null, and never throws for "no backend" or bad client
 * input: those are {@linkplain Outcome outcomes}. A router is immutable and thread-safe; membership
 * changes go through its {@link BackendGroup}.
 */
public final class Router {
  /** The strategy used when a builder names no fallback. */
  public static final String DEFAULT_FALLBACK = "least-connections";

  private static final String NONE_DECIDED = "no strategy chose a backend";

  private final BackendGroup group;
  private final AffinityStrategy[] chain;
  private final ImmutableList<AffinityStrategy> strategies;
  private final AffinityStrategy fallback;
  private final RoutingListener listener;
  private final int maxFailoverCandidates;

  Router(
      BackendGroup group,
      List<AffinityStrategy> strategies,
      AffinityStrategy fallback,
      RoutingListener listener,
      int maxFailoverCandidates) {
    this.group = group;
    this.strategies = ImmutableList.copyOf(strategies);
    this.fallback = fallback;
    this.chain =
        ImmutableList.<AffinityStrategy>builder()
            .addAll(strategies)
            .add(fallback)
            .build()
            .toArray(new AffinityStrategy[0]);
    this.listener = listener;
    this.maxFailoverCandidates = maxFailoverCandidates;
    if (listener != RoutingListener.NOOP) {
      group.addListener(new StateReporter(listener));
    }
  }

  /** Returns a builder for a router over {@code group}. */
  public static RouterBuilder builder(BackendGroup group) {
    return new RouterBuilder(requireNonNull(group, "group"));
  }

  /**
   * Decides where {@code request} goes. Lock-free; never null; never throws for "no backend", a bad
   * header, a forged cookie or a bad token.
   */
  public RoutingDecision select(RoutingRequest request) {
    requireNonNull(request, "request");
    Membership membership = group.snapshot();
    Abstention abstentions = null;
    boolean affinityLost = false;
    for (AffinityStrategy s : chain) {
      Selection sel;
      try {
        sel = s.select(request, membership);
        requireNonNull(sel, "selection");
      } catch (RuntimeException e) {
        listener.strategyFailed(s.name(), e);
        abstentions =
            new Abstention(s.name(), "failed: " + e.getClass().getSimpleName(), abstentions);
        continue;
      }
      switch (sel.kind()) {
        case ABSTAIN:
          abstentions = new Abstention(s.name(), sel.reason(), abstentions);
          affinityLost |= sel.isAffinityLost();
          continue;
        case REJECT:
          return finish(request, membership, Outcome.REJECTED, null, s, sel, abstentions);
        case NO_BACKEND:
          return finish(request, membership, Outcome.NO_BACKEND, null, s, sel, abstentions);
        case CHOSEN:
        default:
          Member m = sel.member();
          Outcome outcome = sel.outcome();
          if (m == null
              || outcome == null
              || !membership.contains(m)
              || m.state() == BackendState.DOWN) {
            // A custom strategy broke the contract: never route to a DOWN or foreign member.
            listener.strategyFailed(
                s.name(),
                new IllegalStateException("chose a member that is DOWN or not in the snapshot"));
            abstentions = new Abstention(s.name(), "failed: chose an unusable member", abstentions);
            continue;
          }
          if (affinityLost && outcome == Outcome.FIRST_ASSIGNMENT) {
            outcome = Outcome.FAILOVER;
          }
          return finish(request, membership, outcome, m, s, sel, abstentions);
      }
    }
    RoutingDecision d =
        new RoutingDecision(
            this,
            request,
            membership,
            Outcome.NO_BACKEND,
            null,
            null,
            membership.upMembers().length == 0 ? "no backend is UP" : NONE_DECIDED,
            null,
            abstentions,
            null);
    listener.decisionMade(d);
    return d;
  }

  private RoutingDecision finish(
      RoutingRequest request,
      Membership membership,
      Outcome outcome,
      @Nullable Member member,
      AffinityStrategy strategy,
      Selection sel,
      @Nullable Abstention abstentions) {
    RoutingDecision d =
        new RoutingDecision(
            this,
            request,
            membership,
            outcome,
            member,
            strategy,
            sel.reason(),
            sel.key(),
            abstentions,
            null);
    if (member != null) {
      SetCookie cookie = cookieFor(request, d);
      if (cookie != null) {
        d = d.withCookie(cookie);
      }
    }
    listener.decisionMade(d);
    return d;
  }

  /** The first cookie a strategy of the chain wants set for {@code d}, or null. */
  private @Nullable SetCookie cookieFor(RoutingRequest request, RoutingDecision d) {
    for (AffinityStrategy s : chain) {
      SetCookie cookie;
      try {
        cookie = s.cookieFor(request, d);
      } catch (RuntimeException e) {
        listener.strategyFailed(s.name(), e);
        continue;
      }
      if (cookie != null) {
        return cookie;
      }
    }
    return null;
  }

  /**
   * The cookie for a connection that went to {@code connected} after connecting to the decision's
   * backend failed: the strategies see a router-made {@link Outcome#FAILOVER} to it.
   */
  @Nullable SetCookie cookieAfterConnectFailover(RoutingDecision decision, Member connected) {
    RoutingDecision moved =
        new RoutingDecision(
            this,
            decision.request(),
            decision.membership(),
            Outcome.FAILOVER,
            connected,
            null,
            "connect failover",
            null,
            null,
            null);
    return cookieFor(decision.request(), moved);
  }

  List<Backend> failoverCandidates(
      RoutingDecision decision, @Nullable AffinityStrategy strategy, Member chosen) {
    AffinityStrategy s = strategy == null ? fallback : strategy;
    List<Member> members;
    try {
      members =
          s.failoverCandidates(
              decision.request(), decision.membership(), chosen, maxFailoverCandidates);
    } catch (RuntimeException e) {
      listener.strategyFailed(s.name(), e);
      members =
          fallback.failoverCandidates(
              decision.request(), decision.membership(), chosen, maxFailoverCandidates);
    }
    ImmutableList.Builder<Backend> out = ImmutableList.builder();
    int n = 0;
    for (Member m : members) {
      if (n++ == maxFailoverCandidates) {
        break;
      }
      if (m.state() != BackendState.DOWN && !m.id().equals(chosen.id())) {
        out.add(m.backend());
      }
    }
    return out.build();
  }

  /**
   * Counts a connection the caller opened to {@code backend}; close the lease when it ends. Prefer
   * {@link RoutingDecision#openLease()}.
   */
  public ConnectionLease openConnection(Backend backend) {
    return observed(group.openConnection(backend));
  }

  /**
   * Counts a connection the caller opened to {@code backend} that the lifecycle machinery may close
   * through {@code closer}. Prefer {@link RoutingDecision#openLease(ConnectionCloser)}, which also
   * enables selective re-homing.
   */
  public ConnectionLease openConnection(Backend backend, ConnectionCloser closer) {
    return observed(group.openConnection(backend, closer));
  }

  ConnectionLease openConnection(
      Backend backend, ConnectionCloser closer, RoutingDecision decision) {
    return observed(group.openConnection(backend, closer, ownerLookup(decision)));
  }

  private ConnectionLease observed(ConnectionLease lease) {
    listener.connectionOpened(lease.backend());
    return listener == RoutingListener.NOOP ? lease : new ObservedLease(lease, listener);
  }

  /**
   * How re-homing recomputes a connection's owner: the deciding strategy's owner of the request's
   * key hash, computed now, while the request is still readable.
   */
  private static @Nullable OwnerLookup ownerLookup(RoutingDecision decision) {
    AffinityStrategy s = decision.decidingStrategy();
    if (s == null) {
      return null;
    }
    RoutingKey key = s.routingKey();
    if (key == null) {
      return null;
    }
    long hash;
    try {
      hash = key.hash(decision.request());
    } catch (RuntimeException e) {
      return null;
    }
    if (hash == RoutingKey.ABSENT) {
      return null;
    }
    return new KeyOwner(s, hash);
  }

  /** The owner of one key hash under a strategy; a value so leases stay small and readable. */
  private static final class KeyOwner implements OwnerLookup {
    private final AffinityStrategy strategy;
    private final long keyHash;

    KeyOwner(AffinityStrategy strategy, long keyHash) {
      this.strategy = strategy;
      this.keyHash = keyHash;
    }

    @Override
    public @Nullable String ownerId(Membership membership) {
      Member m = strategy.ownerOf(keyHash, membership);
      return m == null ? null : m.id();
    }

    @Override
    public String toString() {
      return "owner of key hash " + keyHash + " under " + strategy.name();
    }
  }

  /**
   * Tells the router that connecting or handshaking with {@code backend} failed: listeners (and
   * passive health checking, when configured: see {@link dev.affinity.lifecycle.OutlierDetector})
   * hear it. Adapters call this before trying the next candidate.
   */
  public void reportConnectFailure(Backend backend, Throwable cause) {
    listener.connectFailed(requireNonNull(backend, "backend"), requireNonNull(cause, "cause"));
  }

  /** The group this router reads. */
  public BackendGroup group() {
    return group;
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
   * The fingerprint of the current membership: equal on instances that see the same backends,
   * weights and states. See {@link Membership#fingerprint()}.
   */
  public String membershipFingerprint() {
    return group.snapshot().fingerprint();
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

  private static final class ObservedLease implements ConnectionLease {
    private static final AtomicIntegerFieldUpdater<ObservedLease> CLOSED =
        AtomicIntegerFieldUpdater.newUpdater(ObservedLease.class, "closed");

    private final ConnectionLease delegate;
    private final RoutingListener listener;
    private volatile int closed;

    ObservedLease(ConnectionLease delegate, RoutingListener listener) {
      this.delegate = delegate;
      this.listener = listener;
    }

    @Override
    public Backend backend() {
      return delegate.backend();
    }

    @Override
    public boolean isClosed() {
      return closed != 0;
    }

    @Override
    public void close() {
      if (CLOSED.compareAndSet(this, 0, 1)) {
        delegate.close();
        listener.connectionClosed(delegate.backend());
      }
    }

    @Override
    public String toString() {
      return delegate.toString();
    }
  }

  /** Turns membership changes into per-backend state events. */
  private static final class StateReporter implements MembershipListener {
    private final RoutingListener listener;

    StateReporter(RoutingListener listener) {
      this.listener = listener;
    }

    @Override
    public void membershipChanged(Membership previous, Membership current) {
      String fp = current.fingerprint();
      for (Member before : previous.members()) {
        Member after = current.member(before.id());
        if (after == null) {
          listener.backendStateChanged(before.backend(), before.state(), null, fp);
        } else if (after.state() != before.state()) {
          listener.backendStateChanged(after.backend(), before.state(), after.state(), fp);
        }
      }
      for (Member after : current.members()) {
        if (previous.member(after.id()) == null) {
          listener.backendStateChanged(after.backend(), null, after.state(), fp);
        }
      }
      listener.membershipChanged(current);
    }
  }
}

package dev.affinity;

import com.google.common.collect.ImmutableList;
import com.google.common.hash.Hashing;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.backend.MembershipListener;
import dev.affinity.backend.OwnerLookup;
import dev.affinity.metrics.RoutingListener;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.Selection;
import dev.affinity.strategy.Selector;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.jspecify.annotations.Nullable;

/**
 * What a router's decisions share: the group, the strategies, the listener, and the selectors of
 * the current snapshot, rebuilt once per published snapshot on the publishing thread. Decisions
 * hold this, never the {@link Router}.
 */
final class RouterCore implements MembershipListener {
  final BackendGroup group;
  final AffinityStrategy[] chain;
  final RoutingListener listener;
  final int maxFailoverCandidates;
  private final String decisionParameters;
  private volatile @Nullable State current;
  private volatile @Nullable State previous;

  RouterCore(
      BackendGroup group,
      List<AffinityStrategy> chain,
      RoutingListener listener,
      int maxFailoverCandidates) {
    this.group = group;
    this.chain = chain.toArray(new AffinityStrategy[0]);
    this.listener = listener;
    this.maxFailoverCandidates = maxFailoverCandidates;
    StringBuilder parameters = new StringBuilder();
    for (AffinityStrategy s : this.chain) {
      parameters.append('\n').append(s.decisionParameters());
    }
    this.decisionParameters = parameters.toString();
  }

  /** See {@link Router#fingerprint()}. */
  String fingerprint(Membership snapshot) {
    return Hashing.sha256()
        .hashString(snapshot.fingerprint() + decisionParameters, StandardCharsets.UTF_8)
        .toString()
        .substring(0, 16);
  }

  /** The selectors of the newest snapshot published so far. */
  State state() {
    State s = current;
    if (s == null) {
      throw new IllegalStateException("router not started");
    }
    return s;
  }

  @Override
  public void membershipChanged(Membership previousSnapshot, Membership snapshot) {
    publish(snapshot);
  }

  /** Builds the selectors for {@code snapshot}, unless a newer one is already built. */
  synchronized void publish(Membership snapshot) {
    State cur = current;
    if (cur != null
        && (cur.membership == snapshot || snapshot.version() < cur.membership.version())) {
      return;
    }
    State next = new State(this, snapshot, cur);
    previous = cur;
    current = next;
  }

  /**
   * The selector of strategy {@code index} for {@code snapshot}: the current or previous one when
   * it matches, otherwise one built now. Re-homing asks this on the lifecycle's thread.
   */
  Selector selectorFor(int index, Membership snapshot) {
    State cur = current;
    if (cur != null && cur.membership == snapshot) {
      return cur.selectors[index];
    }
    State prev = previous;
    if (prev != null && prev.membership == snapshot) {
      return prev.selectors[index];
    }
    return build(index, snapshot, null);
  }

  Selector build(int index, Membership snapshot, @Nullable Selector prior) {
    AffinityStrategy s = chain[index];
    try {
      Selector built = s.selector(snapshot, prior);
      if (built == null) {
        throw new IllegalStateException("selector(...) returned null");
      }
      return built;
    } catch (AffinityConfigurationException e) {
      if (current == null) {
        throw e; // the router's first snapshot: Router.Builder.build() reports it
      }
      listener.strategyFailed(s.name(), e);
      Selection failed = Selection.abstain("failed: " + e.getClass().getSimpleName());
      return request -> failed;
    } catch (RuntimeException e) {
      listener.strategyFailed(s.name(), e);
      Selection failed = Selection.abstain("failed: " + e.getClass().getSimpleName());
      return request -> failed;
    }
  }

  ConnectionLease observed(ConnectionLease lease) {
    listener.connectionOpened(lease.backend());
    return listener == RoutingListener.NOOP ? lease : new ObservedLease(lease, listener);
  }

  /** The selectors of one snapshot. */
  static final class State {
    final RouterCore core;
    final Membership membership;
    final Selector[] selectors;

    /** Indices of the selectors that {@linkplain Selector#mayVeto may veto}. */
    final int[] vetoers;

    /**
     * Indices of the selectors that may {@linkplain Selector#cookieFor issue a cookie}: those whose
     * class overrides it. A select asks only these, not every selector of the chain.
     */
    final int[] cookieIssuers;

    State(RouterCore core, Membership membership, @Nullable State prior) {
      this.core = core;
      this.membership = membership;
      int n = core.chain.length;
      this.selectors = new Selector[n];
      int vetoing = 0;
      for (int i = 0; i < n; i++) {
        selectors[i] = core.build(i, membership, prior == null ? null : prior.selectors[i]);
        if (mayVeto(selectors[i])) {
          vetoing++;
        }
      }
      this.vetoers = new int[vetoing];
      for (int i = 0, v = 0; i < n; i++) {
        if (mayVeto(selectors[i])) {
          vetoers[v++] = i;
        }
      }
      int issuing = 0;
      boolean[] issues = new boolean[n];
      for (int i = 0; i < n; i++) {
        issues[i] = mayIssueCookies(selectors[i]);
        if (issues[i]) {
          issuing++;
        }
      }
      this.cookieIssuers = new int[issuing];
      for (int i = 0, c = 0; i < n; i++) {
        if (issues[i]) {
          cookieIssuers[c++] = i;
        }
      }
    }

    /** Whether {@code s}'s class overrides {@link Selector#cookieFor}; true when unsure. */
    private static boolean mayIssueCookies(Selector s) {
      try {
        return s.getClass()
                .getMethod("cookieFor", RoutingRequest.class, Member.class, Outcome.class)
                .getDeclaringClass()
            != Selector.class;
      } catch (NoSuchMethodException | RuntimeException e) {
        return true;
      }
    }

    private static boolean mayVeto(Selector s) {
      try {
        return s.mayVeto();
      } catch (RuntimeException e) {
        return false;
      }
    }
  }

  /** The owner of one key hash under the deciding strategy; a value so leases stay small. */
  static final class KeyOwner implements OwnerLookup {
    private final RouterCore core;
    private final int index;
    private final long keyHash;

    KeyOwner(RouterCore core, int index, long keyHash) {
      this.core = core;
      this.index = index;
      this.keyHash = keyHash;
    }

    @Override
    public @Nullable String ownerId(Membership membership) {
      Member m;
      try {
        m = core.selectorFor(index, membership).ownerOf(keyHash);
      } catch (RuntimeException e) {
        core.listener.strategyFailed(core.chain[index].name(), e);
        return null;
      }
      return m == null ? null : m.id();
    }

    @Override
    public String toString() {
      return "owner of key hash " + keyHash + " under " + core.chain[index].name();
    }
  }

  /** A lease that tells the listener when it closes. */
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
  static final class StateReporter implements MembershipListener {
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

  /** Members to backends: UP, not {@code chosen}, at most the router's limit. */
  List<Backend> usable(List<Member> members, Member chosen) {
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
}

package dev.affinity.backend;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import com.google.common.collect.ImmutableList;
import dev.affinity.AffinityConfigurationException;
import dev.affinity.UnknownBackendException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.jspecify.annotations.Nullable;

/**
 * The thread-safe set of backends a router chooses from, and their states.
 *
 * <p>Every change builds a new immutable {@link Membership} and publishes it atomically; {@link
 * #snapshot()} is a volatile read, so routing never takes a lock. Changes are serialized and
 * listeners hear them in order.
 *
 * <pre>{@code
 * BackendGroup group = BackendGroup.of(
 *     Backend.of("ws-1", "10.0.0.1", 8080),
 *     Backend.of("ws-2", "10.0.0.2", 8080));
 * group.drain("ws-1", Duration.ofMinutes(5)); // no new clients; returning ones for 5 minutes
 * group.markDown("ws-2");                      // gets nothing
 * }</pre>
 *
 * <p>Live connection counts belong to the backend id, not to a snapshot: leases opened under one
 * snapshot are counted in every later one, and survive {@link #update}.
 */
public final class BackendGroup {
  private static final System.Logger LOG = System.getLogger(BackendGroup.class.getName());

  private final InstantSource clock;
  private final Map<String, LiveCount> counters = new ConcurrentHashMap<>();
  // Leases opened with a closer, by backend id: what drain deadlines, re-homing and lifetimes
  // close.
  private final Map<String, Set<Lease>> tracked = new ConcurrentHashMap<>();
  private final List<MembershipListener> listeners = new CopyOnWriteArrayList<>();
  private final Object lock = new Object();
  private volatile Membership current;
  private long version;
  private LifecycleHooks.@Nullable WeightRamp ramp;

  private BackendGroup(InstantSource clock) {
    this.clock = clock;
    this.current = new Membership(ImmutableList.of(), 0, clock);
  }

  /** Returns an empty group that reads time from the system clock. */
  public static BackendGroup create() {
    return new BackendGroup(InstantSource.system());
  }

  /**
   * Returns an empty group that reads time (state changes, drain deadlines) from {@code clock}.
   * Tests pass a fake clock.
   */
  public static BackendGroup create(InstantSource clock) {
    return new BackendGroup(requireNonNull(clock, "clock"));
  }

  /**
   * Returns a group holding {@code backends}, all {@link BackendState#UP UP}.
   *
   * @throws AffinityConfigurationException if two backends share an id
   */
  public static BackendGroup of(Backend... backends) {
    return of(Arrays.asList(backends));
  }

  /**
   * Returns a group holding {@code backends}, all {@link BackendState#UP UP}.
   *
   * @throws AffinityConfigurationException if two backends share an id
   */
  public static BackendGroup of(Iterable<Backend> backends) {
    BackendGroup group = create();
    group.addAll(backends);
    return group;
  }

  /** The current snapshot. A volatile read; never blocks. */
  public Membership snapshot() {
    return current;
  }

  /**
   * Adds a backend in state {@link BackendState#UP UP}.
   *
   * @throws AffinityConfigurationException if a backend with the same id is already a member
   */
  public void add(Backend backend) {
    addAll(List.of(requireNonNull(backend, "backend")));
  }

  /**
   * Adds several backends in one change, all {@link BackendState#UP UP}.
   *
   * @throws AffinityConfigurationException if an id is already a member or appears twice
   */
  public void addAll(Iterable<Backend> backends) {
    requireNonNull(backends, "backends");
    synchronized (lock) {
      Map<String, Member> next = mutable();
      Instant now = clock.instant();
      for (Backend b : backends) {
        requireNonNull(b, "backend");
        check(!next.containsKey(b.id()), "backend", b.id(), "an id not already in the group");
        next.put(b.id(), new Member(b, BackendState.UP, 0, now, null, 1.0, counterFor(b.id()), -1));
      }
      publish(next);
    }
  }

  /**
   * Replaces the backend with the same id (new address, weight, cap or metadata), keeping its state
   * and its live connections.
   *
   * @throws UnknownBackendException if no member has that id
   */
  public void update(Backend backend) {
    requireNonNull(backend, "backend");
    synchronized (lock) {
      Map<String, Member> next = mutable();
      Member old = existing(next, backend.id());
      next.put(
          backend.id(),
          new Member(
              backend,
              old.adminState(),
              old.healthFlags(),
              old.stateSince(),
              old.drainDeadline(),
              old.weightFactor(),
              old.counter(),
              -1));
      publish(next);
    }
  }

  /**
   * Removes a backend. Its open connections stay open (and keep their leases) until the adapter
   * closes them.
   *
   * @return whether a member was removed
   */
  public boolean remove(String id) {
    requireNonNull(id, "id");
    synchronized (lock) {
      Map<String, Member> next = mutable();
      if (next.remove(id) == null) {
        return false;
      }
      counters.computeIfPresent(id, (k, c) -> c.get() == 0 ? null : c);
      publish(next);
      return true;
    }
  }

  /**
   * Marks a backend {@link BackendState#UP UP} (its administrative state). A backend that fails its
   * health checks or is ejected stays {@link BackendState#DOWN DOWN} until it is healthy again.
   *
   * @throws UnknownBackendException if no member has that id
   */
  public void markUp(String id) {
    setState(id, BackendState.UP, null);
  }

  /**
   * Marks a backend {@link BackendState#DOWN DOWN}: it gets nothing until marked up.
   *
   * @throws UnknownBackendException if no member has that id
   */
  public void markDown(String id) {
    setState(id, BackendState.DOWN, null);
  }

  /**
   * Marks a backend {@link BackendState#DRAINING DRAINING} with no deadline: it keeps its open
   * connections and returning sticky clients, and takes no new clients.
   *
   * @throws UnknownBackendException if no member has that id
   */
  public void drain(String id) {
    setState(id, BackendState.DRAINING, null);
  }

  /**
   * Marks a backend {@link BackendState#DRAINING DRAINING} until {@code now + deadline}: after
   * that, returning clients are no longer honoured and adapters may close what remains.
   *
   * @throws UnknownBackendException if no member has that id
   * @throws AffinityConfigurationException if the deadline is negative
   */
  public void drain(String id, Duration deadline) {
    requireNonNull(deadline, "deadline");
    check(!deadline.isNegative(), "deadline", deadline, ">= 0");
    setState(id, BackendState.DRAINING, deadline);
  }

  /**
   * Marks a backend {@link BackendState#DRAINING DRAINING} until the absolute time {@code deadline}
   * (a time already past ends the drain at once). For an agreed deadline that several instances
   * share, so that they hold the same instant rather than each adding a duration to its own clock.
   *
   * @throws UnknownBackendException if no member has that id
   */
  public void drainUntil(String id, Instant deadline) {
    requireNonNull(id, "id");
    requireNonNull(deadline, "deadline");
    setAdminState(id, BackendState.DRAINING, deadline);
  }

  private void setState(String id, BackendState state, @Nullable Duration drainDeadline) {
    requireNonNull(id, "id");
    synchronized (lock) {
      Instant deadline = drainDeadline == null ? null : clock.instant().plus(drainDeadline);
      setAdminState(id, state, deadline);
    }
  }

  /** Sets the administrative state with an absolute drain deadline. */
  private void setAdminState(String id, BackendState state, @Nullable Instant deadline) {
    synchronized (lock) {
      Map<String, Member> next = mutable();
      Member old = existing(next, id);
      if (old.adminState() == state && Objects.equals(old.drainDeadline(), deadline)) {
        return;
      }
      next.put(id, changed(old, state, old.healthFlags(), deadline));
      publish(next);
    }
  }

  /**
   * Sets or clears a health flag ({@link Member#UNHEALTHY}, {@link Member#EJECTED}). Unknown ids
   * (removed meanwhile) are ignored.
   *
   * @return whether the member changed
   */
  boolean setHealthFlag(String id, int flag, boolean set) {
    synchronized (lock) {
      Map<String, Member> next = mutable();
      Member old = next.get(id);
      if (old == null) {
        return false;
      }
      int flags = set ? old.healthFlags() | flag : old.healthFlags() & ~flag;
      if (flags == old.healthFlags()) {
        return false;
      }
      next.put(id, changed(old, old.adminState(), flags, old.drainDeadline()));
      publish(next);
      return true;
    }
  }

  private Member changed(
      Member old, BackendState adminState, int healthFlags, @Nullable Instant deadline) {
    BackendState before = old.state();
    BackendState after = healthFlags != 0 ? BackendState.DOWN : adminState;
    Instant since = before == after ? old.stateSince() : clock.instant();
    Instant keptDeadline = adminState == BackendState.DRAINING ? deadline : null;
    return new Member(
        old.backend(),
        adminState,
        healthFlags,
        since,
        keptDeadline,
        old.weightFactor(),
        old.counter(),
        -1);
  }

  /** Installs (or removes) the slow-start ramp and republishes. */
  void weightRamp(LifecycleHooks.@Nullable WeightRamp newRamp) {
    synchronized (lock) {
      this.ramp = newRamp;
      publish(mutable());
    }
  }

  /**
   * Republishes if the ramp now gives any member another weight factor.
   *
   * @return whether a new snapshot was published
   */
  boolean refreshWeights() {
    synchronized (lock) {
      LifecycleHooks.WeightRamp r = ramp;
      if (r == null) {
        return false;
      }
      Instant now = clock.instant();
      for (Member m : current.members()) {
        if (r.factor(m, now) != m.weightFactor()) {
          publish(mutable());
          return true;
        }
      }
      return false;
    }
  }

  /**
   * The group's clock: the one time source for everything decided about this group (drain
   * deadlines, cookie and token ages, lifecycle schedules).
   */
  public InstantSource clock() {
    return clock;
  }

  /**
   * Counts one open connection against {@code backend}, which need not be a member any more (a
   * connection may outlive its backend's removal). The lifecycle machinery cannot close a
   * connection opened this way, and a router's listeners do not hear of it: behind a router, use
   * {@code RoutingDecision.openLease(Backend, ConnectionCloser)}. For code that counts connections
   * without a router (simulators, tests).
   */
  public ConnectionLease openConnection(Backend backend) {
    requireNonNull(backend, "backend");
    return new Lease(this, backend, countOpened(backend), null, null, null, 0);
  }

  /**
   * Counts one open connection against {@code backend} that the lifecycle machinery (drain
   * deadlines, maximum lifetime) may close through {@code closer}. A router's listeners do not hear
   * of it: behind a router, use {@code RoutingDecision.openLease(Backend, ConnectionCloser)}.
   */
  public ConnectionLease openConnection(Backend backend, ConnectionCloser closer) {
    return openTracked(backend, closer, null);
  }

  ConnectionLease openTracked(
      Backend backend, ConnectionCloser closer, @Nullable OwnerLookup owner) {
    requireNonNull(backend, "backend");
    requireNonNull(closer, "closer");
    Lease lease =
        new Lease(
            this, backend, countOpened(backend), closer, owner, clock.instant(), current.version());
    // One set per id ever seen, never removed: opening and closing stay lock-free.
    tracked.computeIfAbsent(backend.id(), k -> ConcurrentHashMap.newKeySet()).add(lease);
    return lease;
  }

  private AtomicInteger countOpened(Backend backend) {
    Member m = current.member(backend.id());
    AtomicInteger counter =
        m != null ? m.counter() : counters.computeIfAbsent(backend.id(), k -> new LiveCount());
    counter.incrementAndGet();
    return counter;
  }

  /** The open leases of {@code id} that have a closer: a point-in-time copy. */
  List<LifecycleHooks.TrackedLease> trackedLeases(String id) {
    Set<Lease> set = tracked.get(id);
    return set == null ? List.of() : new ArrayList<>(set);
  }

  /** Every open lease that has a closer: a point-in-time copy. */
  List<LifecycleHooks.TrackedLease> trackedLeases() {
    List<LifecycleHooks.TrackedLease> out = new ArrayList<>();
    for (Set<Lease> set : tracked.values()) {
      out.addAll(set);
    }
    return out;
  }

  /** Live connections of the backend with this id, or 0 if it has none. */
  public int liveConnections(String id) {
    LiveCount c = counters.get(requireNonNull(id, "id"));
    return c == null ? 0 : c.get();
  }

  /** Live connections per backend id, sorted by id: a point-in-time copy. */
  public Map<String, Integer> liveConnections() {
    Map<String, Integer> out = new TreeMap<>();
    counters.forEach((id, c) -> out.put(id, c.get()));
    return out;
  }

  /** Registers a listener for every later change. */
  public void addListener(MembershipListener listener) {
    listeners.add(requireNonNull(listener, "listener"));
  }

  /** Unregisters a listener; returns whether it was registered. */
  public boolean removeListener(MembershipListener listener) {
    return listeners.remove(listener);
  }

  /**
   * Sets what the other instances of a fleet last reported as their live connections per backend
   * id; ids not in {@code others} count zero. Connection caps, least connections, power of two
   * choices and bounded load then use this instance's exact count plus these figures ({@link
   * Member#fleetConnections()}); {@link #liveConnections()} stays this instance's own. Without a
   * fleet nobody calls this and the others count zero. Ids that are not members are ignored.
   *
   * <p>A fleet module calls this after each heartbeat. The figures are as old as the last
   * heartbeat, so a cap can be overshot by what the instances accept between two heartbeats.
   */
  public void otherInstancesConnections(Map<String, Integer> others) {
    requireNonNull(others, "others");
    for (Member m : current.members()) {
      Integer n = others.get(m.id());
      m.counter().others = n == null ? 0 : Math.max(0, n);
    }
  }

  private LiveCount counterFor(String id) {
    return counters.computeIfAbsent(id, k -> new LiveCount());
  }

  private void released(Lease lease, String id, AtomicInteger counter) {
    if (lease.closer != null) {
      Set<Lease> set = tracked.get(id);
      if (set != null) {
        set.remove(lease);
      }
    }
    if (counter.decrementAndGet() == 0 && current.member(id) == null) {
      synchronized (lock) {
        if (current.member(id) == null) {
          counters.remove(id, counter);
        }
      }
    }
  }

  private Map<String, Member> mutable() {
    Map<String, Member> next = new TreeMap<>();
    for (Member m : current.members()) {
      next.put(m.id(), m);
    }
    return next;
  }

  private static Member existing(Map<String, Member> members, String id) {
    Member m = members.get(id);
    if (m == null) {
      throw new UnknownBackendException(id);
    }
    return m;
  }

  private void publish(Map<String, Member> next) {
    List<Member> sorted = new ArrayList<>(next.values());
    sorted.sort(Comparator.comparing(Member::id));
    LifecycleHooks.WeightRamp r = ramp;
    Instant now = r == null ? null : clock.instant();
    ImmutableList.Builder<Member> indexed = ImmutableList.builderWithExpectedSize(sorted.size());
    for (int i = 0; i < sorted.size(); i++) {
      Member m = sorted.get(i);
      indexed.add(m.with(i, r == null || now == null ? 1.0 : r.factor(m, now)));
    }
    Membership previous = current;
    Membership snapshot = new Membership(indexed.build(), ++version, clock);
    current = snapshot;
    for (MembershipListener l : listeners) {
      try {
        l.membershipChanged(previous, snapshot);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "membership listener " + l + " threw; ignored", e);
      }
    }
  }

  @Override
  public String toString() {
    return "BackendGroup" + current.members();
  }

  static final class Lease implements LifecycleHooks.TrackedLease {
    private static final AtomicIntegerFieldUpdater<Lease> CLOSED =
        AtomicIntegerFieldUpdater.newUpdater(Lease.class, "closed");
    private static final AtomicIntegerFieldUpdater<Lease> CLOSE_REQUESTED =
        AtomicIntegerFieldUpdater.newUpdater(Lease.class, "closeRequested");

    private final BackendGroup group;
    private final Backend backend;
    private final AtomicInteger counter;
    final @Nullable ConnectionCloser closer;
    final @Nullable OwnerLookup owner;
    final @Nullable Instant openedAt;
    // The snapshot version current when the lease was opened: re-homing ignores changes it knew.
    final long openedVersion;
    private volatile int closed;
    private volatile int closeRequested;
    // Set once by the lifetime enforcer, on its own thread.
    @Nullable Instant lifetimeDeadline;

    Lease(
        BackendGroup group,
        Backend backend,
        AtomicInteger counter,
        @Nullable ConnectionCloser closer,
        @Nullable OwnerLookup owner,
        @Nullable Instant openedAt,
        long openedVersion) {
      this.group = group;
      this.openedVersion = openedVersion;
      this.backend = backend;
      this.counter = counter;
      this.closer = closer;
      this.owner = owner;
      this.openedAt = openedAt;
    }

    @Override
    public Backend backend() {
      return backend;
    }

    @Override
    public boolean isClosed() {
      return closed != 0;
    }

    @Override
    public boolean isCloseRequested() {
      return closeRequested != 0;
    }

    @Override
    public boolean requestClose(CloseReason reason) {
      ConnectionCloser c = closer;
      if (c == null || isClosed() || !CLOSE_REQUESTED.compareAndSet(this, 0, 1)) {
        return false;
      }
      try {
        c.close(reason);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "connection closer " + c + " threw for " + reason + "; ignored", e);
      }
      return true;
    }

    @Override
    public @Nullable OwnerLookup owner() {
      return owner;
    }

    @Override
    public @Nullable Instant openedAt() {
      return openedAt;
    }

    @Override
    public long openedVersion() {
      return openedVersion;
    }

    @Override
    public @Nullable Instant lifetimeDeadline() {
      return lifetimeDeadline;
    }

    @Override
    public void lifetimeDeadline(Instant deadline) {
      lifetimeDeadline = deadline;
    }

    @Override
    public void close() {
      if (CLOSED.compareAndSet(this, 0, 1)) {
        group.released(this, backend.id(), counter);
      }
    }

    @Override
    public String toString() {
      return "ConnectionLease{" + backend.id() + (isClosed() ? ", closed}" : "}");
    }
  }
}

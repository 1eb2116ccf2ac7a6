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
  private final Map<String, AtomicInteger> counters = new ConcurrentHashMap<>();
  private final List<MembershipListener> listeners = new CopyOnWriteArrayList<>();
  private final Object lock = new Object();
  private volatile Membership current = Membership.empty();
  private long version;

  private BackendGroup(InstantSource clock) {
    this.clock = clock;
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
        next.put(b.id(), new Member(b, BackendState.UP, now, null, counterFor(b.id()), -1));
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
              backend, old.state(), old.stateSince(), old.drainDeadline(), old.counter(), -1));
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
   * Marks a backend {@link BackendState#UP UP}.
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

  private void setState(String id, BackendState state, @Nullable Duration drainDeadline) {
    requireNonNull(id, "id");
    synchronized (lock) {
      Map<String, Member> next = mutable();
      Member old = existing(next, id);
      Instant now = clock.instant();
      Instant deadline = drainDeadline == null ? null : now.plus(drainDeadline);
      if (old.state() == state && java.util.Objects.equals(old.drainDeadline(), deadline)) {
        return;
      }
      Instant since = old.state() == state ? old.stateSince() : now;
      next.put(id, new Member(old.backend(), state, since, deadline, old.counter(), -1));
      publish(next);
    }
  }

  /**
   * Counts one open connection against {@code backend}, which need not be a member any more (a
   * connection may outlive its backend's removal).
   */
  public ConnectionLease openConnection(Backend backend) {
    requireNonNull(backend, "backend");
    AtomicInteger counter;
    Member m = current.member(backend.id());
    if (m != null) {
      counter = m.counter();
    } else {
      counter = counters.computeIfAbsent(backend.id(), k -> new AtomicInteger());
    }
    counter.incrementAndGet();
    return new Lease(this, backend, counter);
  }

  /** Live connections of the backend with this id, or 0 if it has none. */
  public int liveConnections(String id) {
    AtomicInteger c = counters.get(requireNonNull(id, "id"));
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

  private AtomicInteger counterFor(String id) {
    return counters.computeIfAbsent(id, k -> new AtomicInteger());
  }

  private void released(String id, AtomicInteger counter) {
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
    ImmutableList.Builder<Member> indexed = ImmutableList.builderWithExpectedSize(sorted.size());
    for (int i = 0; i < sorted.size(); i++) {
      indexed.add(sorted.get(i).withIndex(i));
    }
    Membership previous = current;
    Membership snapshot = new Membership(indexed.build(), ++version);
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

  private static final class Lease implements ConnectionLease {
    private static final AtomicIntegerFieldUpdater<Lease> CLOSED =
        AtomicIntegerFieldUpdater.newUpdater(Lease.class, "closed");

    private final BackendGroup group;
    private final Backend backend;
    private final AtomicInteger counter;
    private volatile int closed;

    Lease(BackendGroup group, Backend backend, AtomicInteger counter) {
      this.group = group;
      this.backend = backend;
      this.counter = counter;
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
    public void close() {
      if (CLOSED.compareAndSet(this, 0, 1)) {
        group.released(backend.id(), counter);
      }
    }

    @Override
    public String toString() {
      return "ConnectionLease{" + backend.id() + (isClosed() ? ", closed}" : "}");
    }
  }
}

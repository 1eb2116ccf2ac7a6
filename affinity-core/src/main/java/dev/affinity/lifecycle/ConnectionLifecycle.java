package dev.affinity.lifecycle;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.CanIgnoreReturnValue;
import dev.affinity.AffinityConfigurationException;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.CloseReason;
import dev.affinity.backend.ConnectionCloser;
import dev.affinity.backend.LifecycleHooks;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.backend.MembershipListener;
import dev.affinity.backend.OwnerLookup;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Ends live connections when they must end, through the {@link ConnectionCloser} each adapter
 * registered with its lease ({@link dev.affinity.RoutingDecision#openLease(ConnectionCloser)}):
 *
 * <ul>
 *   <li><b>Drain deadlines</b> (always on): when a backend {@linkplain BackendGroup#drain(String,
 *       Duration) drained with a deadline} reaches it, the connections it still has are closed with
 *       {@link CloseReason#DRAIN_DEADLINE}, spread evenly with jitter over the {@linkplain
 *       Builder#drainCloseWindow close window} so that their clients do not reconnect all at once.
 *   <li><b>Selective re-homing</b> (opt-in, {@link Builder#rehoming}): when the membership changes,
 *       the connections whose key's owner changed, and which are not on the new owner, are closed
 *       with {@link CloseReason#REHOME}, at most a given number per second, with jitter. Only
 *       those: connections whose owner did not change are never touched, so clients sharing a key
 *       meet on the same backend again without a reconnect storm.
 *   <li><b>Maximum lifetime</b> (opt-in, {@link Builder#maxLifetime}): each connection is closed
 *       with {@link CloseReason#MAX_LIFETIME} after the maximum lifetime minus a random jitter, so
 *       long-lived connections rebalance without all ending together.
 * </ul>
 *
 * <pre>{@code
 * try (ConnectionLifecycle lifecycle = ConnectionLifecycle.builder(group)
 *     .drainCloseWindow(Duration.ofSeconds(30))
 *     .rehoming(50)                                                // closes per second
 *     .maxLifetime(Duration.ofHours(4), Duration.ofMinutes(30))
 *     .build().start()) {
 *   group.drain("ws-1", Duration.ofMinutes(5));
 *   ...
 * }
 * }</pre>
 *
 * <p>All work runs on the lifecycle's scheduler thread, never on the routing path or an adapter
 * event loop. Only connections opened with a closer can be closed; connections opened with the
 * plain {@code openLease()} are counted but left alone. Time comes from the group's clock.
 */
public final class ConnectionLifecycle implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ConnectionLifecycle.class.getName());

  /** The drain close window unless {@link Builder#drainCloseWindow} says otherwise. */
  public static final Duration DEFAULT_DRAIN_CLOSE_WINDOW = Duration.ofSeconds(30);

  /** How often lifetimes are checked unless {@link Builder#scanInterval} says otherwise. */
  public static final Duration DEFAULT_SCAN_INTERVAL = Duration.ofSeconds(1);

  private final BackendGroup group;
  private final ScheduledExecutorService scheduler;
  private final boolean ownScheduler;
  private final Random random;
  private final Duration drainCloseWindow;
  private final double rehomesPerSecond;
  private final @Nullable Duration maxLifetime;
  private final Duration lifetimeJitter;
  private final Duration scanInterval;
  private final MembershipListener listener = this::membershipChanged;

  // Scheduler-thread state.
  private final Map<String, PendingDrain> drains = new HashMap<>();
  private final Set<LifecycleHooks.TrackedLease> queuedRehomes =
      Collections.newSetFromMap(new ConcurrentHashMap<>());
  private @Nullable Instant nextRehomeSlot;
  private final Set<LifecycleHooks.TrackedLease> lifetimeScheduled =
      Collections.newSetFromMap(new ConcurrentHashMap<>());
  private @Nullable ScheduledFuture<?> scan;
  private volatile boolean closed;
  private final Object startLock = new Object();
  private boolean started;

  private ConnectionLifecycle(Builder b) {
    this.group = b.group;
    this.ownScheduler = b.scheduler == null;
    this.scheduler =
        b.scheduler == null ? Scheduling.ownScheduler("affinity-lifecycle") : b.scheduler;
    this.random = b.random == null ? new Random() : b.random;
    this.drainCloseWindow = b.drainCloseWindow;
    this.rehomesPerSecond = b.rehomesPerSecond;
    this.maxLifetime = b.maxLifetime;
    this.lifetimeJitter = b.lifetimeJitter;
    this.scanInterval = b.scanInterval;
  }

  /** Returns a builder for a lifecycle over {@code group}. */
  public static Builder builder(BackendGroup group) {
    return new Builder(requireNonNull(group, "group"));
  }

  /**
   * Starts: registers with the group and schedules the work. {@link Builder#build()} starts
   * nothing, so that a configured component can be handed around before it runs.
   *
   * @return this
   * @throws IllegalStateException if already started, or closed
   */
  public ConnectionLifecycle start() {
    synchronized (startLock) {
      if (started || closed) {
        throw new IllegalStateException(
            closed ? "lifecycle is closed" : "lifecycle is already started");
      }
      started = true;
    }
    group.addListener(listener);
    Membership now = group.snapshot();
    submit(() -> membershipChangedOnScheduler(now, now));
    if (maxLifetime != null) {
      long every = Scheduling.saturatedNanos(scanInterval);
      scan =
          scheduler.scheduleWithFixedDelay(
              () -> guarded("lifetime scan", this::scanLifetimes),
              every,
              every,
              TimeUnit.NANOSECONDS);
    }
    return this;
  }

  /** Whether selective re-homing is enabled. */
  public boolean rehomingEnabled() {
    return rehomesPerSecond > 0;
  }

  /**
   * Stops: no further connections are closed. Shuts the scheduler down if it is the lifecycle's.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    group.removeListener(listener);
    ScheduledFuture<?> s = scan;
    if (s != null) {
      s.cancel(false);
    }
    if (ownScheduler) {
      scheduler.shutdownNow();
    } else {
      submit(
          () -> {
            drains.values().forEach(d -> d.future.cancel(false));
            drains.clear();
          });
    }
  }

  private void membershipChanged(Membership previous, Membership current) {
    // Called under the group's lock on whatever thread changed it: hand off at once.
    submit(() -> membershipChangedOnScheduler(previous, current));
  }

  private void membershipChangedOnScheduler(Membership previous, Membership current) {
    scheduleDrains(current);
    if (rehomingEnabled() && previous != current) {
      findRehomes(previous, current);
    }
  }

  // ---- Drain deadlines ----

  private void scheduleDrains(Membership current) {
    for (Member m : current.members()) {
      Instant deadline = m.adminState() == BackendState.DRAINING ? m.drainDeadline() : null;
      PendingDrain pending = drains.get(m.id());
      if (pending != null && !pending.deadline.equals(deadline)) {
        pending.future.cancel(false);
        drains.remove(m.id());
        pending = null;
      }
      if (deadline != null && pending == null) {
        String id = m.id();
        ScheduledFuture<?> f =
            schedule(deadline, () -> guarded("drain deadline", () -> drainDeadline(id, deadline)));
        drains.put(id, new PendingDrain(deadline, f));
      }
    }
    drains.entrySet().removeIf(e -> removeIfGone(e.getKey(), e.getValue(), current));
  }

  private static boolean removeIfGone(String id, PendingDrain pending, Membership current) {
    if (current.member(id) == null) {
      pending.future.cancel(false);
      return true;
    }
    return false;
  }

  private void drainDeadline(String id, Instant deadline) {
    drains.remove(id);
    if (!stillDraining(id, deadline)) {
      return;
    }
    List<LifecycleHooks.TrackedLease> leases = openLeases(LifecycleHooks.trackedLeases(group, id));
    Collections.shuffle(leases, random);
    List<Instant> times = spread(deadline, drainCloseWindow, leases.size());
    for (int i = 0; i < leases.size(); i++) {
      LifecycleHooks.TrackedLease lease = leases.get(i);
      schedule(
          times.get(i),
          () -> {
            if (stillDraining(id, deadline)) {
              lease.requestClose(CloseReason.DRAIN_DEADLINE);
            }
          });
    }
    // Stragglers: sticky clients that came back just before the deadline.
    schedule(
        deadline.plus(drainCloseWindow),
        () -> {
          if (stillDraining(id, deadline)) {
            for (LifecycleHooks.TrackedLease lease : LifecycleHooks.trackedLeases(group, id)) {
              lease.requestClose(CloseReason.DRAIN_DEADLINE);
            }
          }
        });
    LOG.log(
        Level.INFO,
        "backend {0} reached its drain deadline; closing {1} connections over {2}",
        id,
        leases.size(),
        drainCloseWindow);
  }

  private boolean stillDraining(String id, Instant deadline) {
    Member m = group.snapshot().member(id);
    return m != null
        && m.adminState() == BackendState.DRAINING
        && deadline.equals(m.drainDeadline());
  }

  /**
   * {@code n} instants in {@code [start, start + window)}: one in each of {@code n} equal slots, at
   * a random place within its slot, so closes are both evenly spread and jittered.
   */
  List<Instant> spread(Instant start, Duration window, int n) {
    List<Instant> out = new ArrayList<>(n);
    long windowNanos = Scheduling.saturatedNanos(window);
    for (int i = 0; i < n; i++) {
      double at = (i + random.nextDouble()) / n;
      out.add(start.plusNanos((long) (at * windowNanos)));
    }
    return out;
  }

  // ---- Selective re-homing ----

  private void findRehomes(Membership previous, Membership current) {
    List<LifecycleHooks.TrackedLease> moved = new ArrayList<>();
    for (LifecycleHooks.TrackedLease lease : openLeases(LifecycleHooks.trackedLeases(group))) {
      if (lease.owner() != null
          && lease.openedVersion() < current.version()
          && ownerChanged(lease, previous, current)) {
        moved.add(lease);
      }
    }
    if (moved.isEmpty()) {
      return;
    }
    Collections.shuffle(moved, random);
    Instant now = group.clock().instant();
    long slotNanos = (long) (1e9 / rehomesPerSecond);
    Instant slot = nextRehomeSlot == null || nextRehomeSlot.isBefore(now) ? now : nextRehomeSlot;
    int queued = 0;
    for (LifecycleHooks.TrackedLease lease : moved) {
      if (!queuedRehomes.add(lease)) {
        continue;
      }
      Instant at = slot.plusNanos((long) (random.nextDouble() * slotNanos));
      schedule(at, () -> rehome(lease));
      slot = slot.plusNanos(slotNanos);
      queued++;
    }
    nextRehomeSlot = slot;
    LOG.log(
        Level.DEBUG,
        "membership version {0}: re-homing {1} connections whose owner changed",
        current.version(),
        queued);
  }

  /**
   * Whether {@code lease}'s key changed owner between the snapshots and it is not on the new owner.
   * A key with no owner now (nothing UP) is left where it is.
   */
  static boolean ownerChanged(
      LifecycleHooks.TrackedLease lease, Membership previous, Membership current) {
    OwnerLookup owner = requireNonNull(lease.owner());
    String now = owner.ownerId(current);
    return now != null
        && !now.equals(lease.backend().id())
        && !Objects.equals(owner.ownerId(previous), now);
  }

  private void rehome(LifecycleHooks.TrackedLease lease) {
    queuedRehomes.remove(lease);
    OwnerLookup owner = lease.owner();
    if (owner == null || lease.isClosed()) {
      return;
    }
    // Re-check: a later change may have given the key back to the backend it is on.
    String now = owner.ownerId(group.snapshot());
    if (now != null && !now.equals(lease.backend().id())) {
      lease.requestClose(CloseReason.REHOME);
    }
  }

  // ---- Maximum lifetime ----

  private void scanLifetimes() {
    Duration max = requireNonNull(maxLifetime);
    Instant now = group.clock().instant();
    Instant horizon = now.plus(scanInterval);
    long jitterNanos = Scheduling.saturatedNanos(lifetimeJitter);
    for (LifecycleHooks.TrackedLease lease : openLeases(LifecycleHooks.trackedLeases(group))) {
      Instant deadline = lease.lifetimeDeadline();
      if (deadline == null) {
        deadline =
            requireNonNull(lease.openedAt())
                .plus(max)
                .minusNanos((long) (random.nextDouble() * jitterNanos));
        lease.lifetimeDeadline(deadline);
      }
      if (deadline.isBefore(horizon) && lifetimeScheduled.add(lease)) {
        schedule(
            deadline,
            () -> {
              lifetimeScheduled.remove(lease);
              lease.requestClose(CloseReason.MAX_LIFETIME);
            });
      }
    }
  }

  // ---- Plumbing ----

  private static List<LifecycleHooks.TrackedLease> openLeases(
      List<LifecycleHooks.TrackedLease> leases) {
    List<LifecycleHooks.TrackedLease> out = new ArrayList<>(leases.size());
    for (LifecycleHooks.TrackedLease l : leases) {
      if (!l.isClosed() && !l.isCloseRequested()) {
        out.add(l);
      }
    }
    return out;
  }

  // Callers may drop the future: the task is guarded (any exception is logged), so the future
  // carries no failure to check; it is kept only where a pending close may be cancelled.
  @CanIgnoreReturnValue
  private ScheduledFuture<?> schedule(Instant at, Runnable task) {
    long delay = Scheduling.nanosUntil(group.clock().instant(), at);
    try {
      return scheduler.schedule(
          () -> {
            if (!closed) {
              guarded("scheduled close", task);
            }
          },
          delay,
          TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      if (!closed) {
        throw e;
      }
      return Scheduling.CancelledFuture.INSTANCE;
    }
  }

  private void submit(Runnable task) {
    try {
      scheduler.execute(() -> guarded("membership change", task));
    } catch (RejectedExecutionException e) {
      if (!closed) {
        LOG.log(Level.WARNING, "lifecycle scheduler rejected a task", e);
      }
    }
  }

  private static void guarded(String what, Runnable task) {
    try {
      task.run();
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "lifecycle " + what + " failed; continuing", e);
    }
  }

  @Override
  public String toString() {
    return "ConnectionLifecycle{drainCloseWindow="
        + drainCloseWindow
        + (rehomingEnabled() ? ", rehoming=" + rehomesPerSecond + "/s" : "")
        + (maxLifetime == null ? "" : ", maxLifetime=" + maxLifetime + " - " + lifetimeJitter)
        + "}";
  }

  private static final class PendingDrain {
    final Instant deadline;
    final ScheduledFuture<?> future;

    PendingDrain(Instant deadline, ScheduledFuture<?> future) {
      this.deadline = deadline;
      this.future = future;
    }
  }

  /** Builds a {@link ConnectionLifecycle}; every setting is optional. */
  public static final class Builder {
    private final BackendGroup group;
    private Duration drainCloseWindow = DEFAULT_DRAIN_CLOSE_WINDOW;
    private double rehomesPerSecond;
    private @Nullable Duration maxLifetime;
    private Duration lifetimeJitter = Duration.ZERO;
    private Duration scanInterval = DEFAULT_SCAN_INTERVAL;
    private @Nullable ScheduledExecutorService scheduler;
    private @Nullable Random random;

    private Builder(BackendGroup group) {
      this.group = group;
    }

    /**
     * Over how long the connections left at a drain deadline are closed; default {@code 30s}. Zero
     * closes them all at the deadline.
     *
     * @throws AffinityConfigurationException if negative
     */
    public Builder drainCloseWindow(Duration window) {
      requireNonNull(window, "window");
      check(!window.isNegative(), "drainCloseWindow", window, ">= 0");
      this.drainCloseWindow = window;
      return this;
    }

    /**
     * Enables selective re-homing, closing at most {@code closesPerSecond} connections per second
     * (each at a random moment within its slot). Off by default.
     *
     * @throws AffinityConfigurationException unless {@code 0 < closesPerSecond <= 1_000_000}
     */
    public Builder rehoming(double closesPerSecond) {
      check(
          closesPerSecond > 0 && closesPerSecond <= 1_000_000,
          "rehoming",
          closesPerSecond,
          "> 0 and <= 1000000 closes per second");
      this.rehomesPerSecond = closesPerSecond;
      return this;
    }

    /**
     * Enables a maximum connection lifetime: each connection is closed after {@code max} minus a
     * random part of {@code jitter}, drawn once per connection. Off by default.
     *
     * @throws AffinityConfigurationException unless {@code max > 0} and {@code 0 <= jitter < max}
     */
    public Builder maxLifetime(Duration max, Duration jitter) {
      requireNonNull(max, "max");
      requireNonNull(jitter, "jitter");
      check(!max.isNegative() && !max.isZero(), "maxLifetime", max, "> 0");
      check(
          !jitter.isNegative() && jitter.compareTo(max) < 0,
          "jitter",
          jitter,
          ">= 0 and < maxLifetime " + max);
      this.maxLifetime = max;
      this.lifetimeJitter = jitter;
      return this;
    }

    /**
     * How often lifetimes are checked; default {@code 1s}. Connections are closed at their exact
     * deadline; the interval only bounds how far ahead the lifecycle looks.
     *
     * @throws AffinityConfigurationException unless positive
     */
    public Builder scanInterval(Duration interval) {
      this.scanInterval = Scheduling.positive(interval, "scanInterval");
      return this;
    }

    /**
     * The scheduler to run on; default a daemon thread of the lifecycle's own, shut down by {@link
     * #close()}. A given scheduler is left running. Its clock must agree with the group's.
     */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = requireNonNull(scheduler, "scheduler");
      return this;
    }

    /** The source of jitter; default a new {@link Random}. Tests pass a seeded one. */
    public Builder random(Random random) {
      this.random = requireNonNull(random, "random");
      return this;
    }

    /** Returns a lifecycle that acts once {@link ConnectionLifecycle#start() started}. */
    public ConnectionLifecycle build() {
      ConnectionLifecycle lifecycle = new ConnectionLifecycle(this);
      return lifecycle;
    }
  }
}

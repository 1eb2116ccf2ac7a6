package dev.affinity.lifecycle;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.LifecycleHooks;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.metrics.RoutingListener;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Passive health checking (outlier detection): a backend whose connects or handshakes fail {@code
 * consecutiveFailures} times in a row, as adapters report through {@link
 * dev.affinity.Router#reportConnectFailure}, is ejected ({@link BackendState#DOWN DOWN}) for a
 * while, then tried again. Each ejection lasts twice as long as the one before, from {@code
 * baseEjection} up to {@code maxEjection}; a backend that stays in for {@code maxEjection} starts
 * again from the base.
 *
 * <p>At most {@code maxEjectedPercent} of the members are ejected at once, and never all of them:
 * when every backend seems to fail, the fault is more likely the proxy's or the network's, and
 * ejecting everyone would turn a partial outage into a full one.
 *
 * <pre>{@code
 * OutlierDetector outliers = OutlierDetector.builder(group)
 *     .consecutiveFailures(5)
 *     .baseEjection(Duration.ofSeconds(30))
 *     .build();
 * Router router = Router.builder(group).outlierDetection(outliers).build();
 * }</pre>
 *
 * <p>Give it to the router of the same group once, with {@code Router.Builder.outlierDetection}
 * (which checks the group and that it is not also added as a plain listener); the router then tells
 * it about connect failures and successful connections. Counting happens on the reporting thread
 * with one atomic operation; ejections and returns run on the detector's scheduler. A successful
 * connection ({@link RoutingListener#connectionOpened}) resets the count.
 */
public final class OutlierDetector implements RoutingListener, AutoCloseable {
  private static final System.Logger LOG = System.getLogger(OutlierDetector.class.getName());

  /** Consecutive failures that eject unless {@link Builder#consecutiveFailures} says otherwise. */
  public static final int DEFAULT_CONSECUTIVE_FAILURES = 5;

  /** The first ejection's length unless {@link Builder#baseEjection} says otherwise. */
  public static final Duration DEFAULT_BASE_EJECTION = Duration.ofSeconds(30);

  /** The longest ejection unless {@link Builder#maxEjection} says otherwise. */
  public static final Duration DEFAULT_MAX_EJECTION = Duration.ofMinutes(5);

  /** The share of members that may be ejected at once unless told otherwise. */
  public static final int DEFAULT_MAX_EJECTED_PERCENT = 50;

  private final BackendGroup group;
  private final int threshold;
  private final Duration baseEjection;
  private final Duration maxEjection;
  private final int maxEjectedPercent;
  private final ScheduledExecutorService scheduler;
  private final boolean ownScheduler;
  private final Map<String, Outlier> outliers = new ConcurrentHashMap<>();
  private volatile boolean closed;

  private OutlierDetector(Builder b) {
    this.group = b.group;
    this.threshold = b.consecutiveFailures;
    this.baseEjection = b.baseEjection;
    this.maxEjection = b.maxEjection;
    this.maxEjectedPercent = b.maxEjectedPercent;
    this.ownScheduler = b.scheduler == null;
    this.scheduler =
        b.scheduler == null ? Scheduling.ownScheduler("affinity-outliers") : b.scheduler;
  }

  /** Returns a builder for a detector over {@code group}. */
  public static Builder builder(BackendGroup group) {
    return new Builder(requireNonNull(group, "group"));
  }

  /** The group whose members this detector ejects. */
  public BackendGroup group() {
    return group;
  }

  @Override
  public void connectFailed(Backend backend, Throwable cause) {
    Outlier o = outliers.computeIfAbsent(backend.id(), Outlier::new);
    if (o.failures.incrementAndGet() >= threshold && o.pending.compareAndSet(false, true)) {
      submit(
          () -> {
            o.pending.set(false);
            tryEject(o);
          });
    }
  }

  @Override
  public void connectionOpened(Backend backend) {
    Outlier o = outliers.get(backend.id());
    if (o != null) {
      o.failures.set(0);
    }
  }

  /** How many members are ejected now. */
  public int ejectedCount() {
    int n = 0;
    for (Member m : group.snapshot().members()) {
      if (m.isEjected()) {
        n++;
      }
    }
    return n;
  }

  /**
   * How many of {@code members} may be ejected at once: {@code maxEjectedPercent} of them rounded
   * down, at least one, and always fewer than all.
   */
  static int maxEjected(int members, int percent) {
    return Math.min(members - 1, Math.max(1, members * percent / 100));
  }

  private void tryEject(Outlier o) {
    Membership m = group.snapshot();
    Member member = m.member(o.id);
    if (member == null || member.isEjected() || o.failures.get() < threshold) {
      return;
    }
    if (ejectedCount() >= maxEjected(m.size(), maxEjectedPercent)) {
      // Every further failure lands here while the bound holds: warn once per episode.
      LOG.log(
          o.boundWarned ? Level.DEBUG : Level.WARNING,
          "backend {0} failed {1} connects in a row but {2} of {3} members are already ejected;"
              + " not ejecting",
          o.id,
          o.failures.get(),
          ejectedCount(),
          m.size());
      o.boundWarned = true;
      return;
    }
    o.boundWarned = false;
    Instant now = group.clock().instant();
    if (o.returnedAt != null && !now.isBefore(o.returnedAt.plus(maxEjection))) {
      o.ejections = 0; // it behaved for a full maximum ejection: start over from the base
    }
    Duration length = ejectionLength(o.ejections);
    o.ejections++;
    if (LifecycleHooks.setHealthFlag(group, o.id, LifecycleHooks.EJECTED, true)) {
      LOG.log(
          Level.WARNING,
          "backend {0} ejected for {1} after {2} consecutive connect failures",
          o.id,
          length,
          o.failures.get());
      try {
        // Nothing waits for the return: giveBack only resets counters and flips a health flag,
        // whose listeners are guarded, so the future carries no failure to check.
        var unused =
            scheduler.schedule(
                () -> {
                  if (!closed) {
                    giveBack(o);
                  }
                },
                Scheduling.saturatedNanos(length),
                TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        giveBack(o);
      }
    }
  }

  /** {@code base × 2^n}, at most the maximum. */
  Duration ejectionLength(int previousEjections) {
    Duration d = baseEjection;
    for (int i = 0; i < previousEjections && d.compareTo(maxEjection) < 0; i++) {
      d = d.multipliedBy(2);
    }
    return d.compareTo(maxEjection) > 0 ? maxEjection : d;
  }

  private void giveBack(Outlier o) {
    o.failures.set(0);
    o.returnedAt = group.clock().instant();
    if (LifecycleHooks.setHealthFlag(group, o.id, LifecycleHooks.EJECTED, false)) {
      LOG.log(Level.INFO, "backend {0} returned from ejection", o.id);
    }
  }

  private void submit(Runnable task) {
    Scheduling.submitUnlessClosed(scheduler, () -> closed, task, LOG, "outlier detector");
  }

  /**
   * Stops detecting and returns every backend it ejected. Shuts the scheduler down if it is the
   * detector's own.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Outlier o : outliers.values()) {
      LifecycleHooks.setHealthFlag(group, o.id, LifecycleHooks.EJECTED, false);
    }
    if (ownScheduler) {
      scheduler.shutdownNow();
    }
  }

  @Override
  public String toString() {
    return "OutlierDetector{consecutiveFailures="
        + threshold
        + ", ejection="
        + baseEjection
        + ".."
        + maxEjection
        + ", maxEjectedPercent="
        + maxEjectedPercent
        + "}";
  }

  private static final class Outlier {
    final String id;
    final AtomicInteger failures = new AtomicInteger();
    final AtomicBoolean pending = new AtomicBoolean();
    // Scheduler-thread state.
    int ejections;
    boolean boundWarned;
    @Nullable Instant returnedAt;

    Outlier(String id) {
      this.id = id;
    }
  }

  /** Builds an {@link OutlierDetector}; every setting is optional. */
  public static final class Builder {
    private final BackendGroup group;
    private int consecutiveFailures = DEFAULT_CONSECUTIVE_FAILURES;
    private Duration baseEjection = DEFAULT_BASE_EJECTION;
    private Duration maxEjection = DEFAULT_MAX_EJECTION;
    private int maxEjectedPercent = DEFAULT_MAX_EJECTED_PERCENT;
    private @Nullable ScheduledExecutorService scheduler;

    private Builder(BackendGroup group) {
      this.group = group;
    }

    /**
     * Failures in a row that eject a backend; default {@value #DEFAULT_CONSECUTIVE_FAILURES}.
     *
     * @throws AffinityConfigurationException unless 1..1000
     */
    public Builder consecutiveFailures(int failures) {
      check(failures >= 1 && failures <= 1000, "consecutiveFailures", failures, "1..1000");
      this.consecutiveFailures = failures;
      return this;
    }

    /**
     * How long the first ejection lasts; default {@code 30s}.
     *
     * @throws AffinityConfigurationException unless positive
     */
    public Builder baseEjection(Duration base) {
      this.baseEjection = Scheduling.positive(base, "baseEjection");
      return this;
    }

    /**
     * The longest an ejection lasts; default {@code 5m}.
     *
     * @throws AffinityConfigurationException unless positive (and at least the base, checked at
     *     {@link #build()})
     */
    public Builder maxEjection(Duration max) {
      this.maxEjection = Scheduling.positive(max, "maxEjection");
      return this;
    }

    /**
     * The share of members that may be ejected at once, in percent; default {@value
     * #DEFAULT_MAX_EJECTED_PERCENT}. At least one member may always be ejected, and never all.
     *
     * @throws AffinityConfigurationException unless 1..100
     */
    public Builder maxEjectedPercent(int percent) {
      check(percent >= 1 && percent <= 100, "maxEjectedPercent", percent, "1..100");
      this.maxEjectedPercent = percent;
      return this;
    }

    /**
     * The scheduler for ejection and return; default a daemon thread of the detector's own (started
     * by the first ejection, shut down by {@link OutlierDetector#close()}). A given scheduler (one
     * shared by every lifecycle component, say) is left running.
     */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * Returns a detector; give it to the router with {@code Router.Builder.outlierDetection}.
     *
     * @throws AffinityConfigurationException if the maximum ejection is shorter than the base
     */
    public OutlierDetector build() {
      check(
          maxEjection.compareTo(baseEjection) >= 0,
          "maxEjection",
          maxEjection,
          ">= baseEjection " + baseEjection);
      return new OutlierDetector(this);
    }
  }
}

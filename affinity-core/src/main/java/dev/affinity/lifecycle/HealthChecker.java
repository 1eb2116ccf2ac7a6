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
import dev.affinity.backend.MembershipListener;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Active health checking: probes every member of a {@link BackendGroup} at an interval and marks a
 * backend {@link BackendState#DOWN DOWN} after {@code fall} consecutive failures, and healthy again
 * after {@code rise} consecutive successes (HAProxy's {@code fall}/{@code rise}). Health is kept
 * apart from the administrative state: a drained backend that fails and recovers is drained again,
 * and {@link BackendGroup#markUp} cannot bring back a backend that fails its checks.
 *
 * <pre>{@code
 * try (HealthChecker checker = HealthChecker.builder(group)
 *     .probe(HealthProbe.webSocket("/healthz"))
 *     .interval(Duration.ofSeconds(5))
 *     .timeout(Duration.ofSeconds(2))
 *     .fall(3).rise(2)
 *     .build().start()) {
 *   ...
 * }
 * }</pre>
 *
 * <p>Each backend is probed on its own schedule, started at a random offset and repeated every
 * interval plus or minus the jitter, so probes of many backends (and of many proxy instances) do
 * not arrive together. Probes run on the checker's probe threads, never on the routing path or an
 * adapter event loop; state changes go through the group, so its listeners (and routers' {@link
 * dev.affinity.metrics.RoutingListener}s) hear them. Backends start healthy: a backend that is down
 * at start is detected after {@code fall} intervals.
 */
public final class HealthChecker implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(HealthChecker.class.getName());

  /** The probe interval unless {@link Builder#interval} says otherwise. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);

  /** The probe timeout unless {@link Builder#timeout} says otherwise. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);

  /**
   * Consecutive failures that mark a backend unhealthy unless {@link Builder#fall} says otherwise.
   */
  public static final int DEFAULT_FALL = 3;

  /**
   * Consecutive successes that mark it healthy again unless {@link Builder#rise} says otherwise.
   */
  public static final int DEFAULT_RISE = 2;

  private final BackendGroup group;
  private final HealthProbe probe;
  private final Duration interval;
  private final Duration jitter;
  private final Duration timeout;
  private final int rise;
  private final int fall;
  private final ScheduledExecutorService scheduler;
  private final boolean ownScheduler;
  private final Executor probes;
  private final @Nullable ExecutorService ownProbes;
  private final Random random;
  private final MembershipListener listener = (previous, current) -> submit(this::sync);

  // Scheduler-thread state.
  private final Map<String, Check> checks = new HashMap<>();
  private volatile boolean closed;
  private final Object startLock = new Object();
  private boolean started;

  private HealthChecker(Builder b) {
    this.group = b.group;
    this.probe = requireNonNull(b.probe, "probe");
    this.interval = b.interval;
    this.jitter = b.jitter == null ? b.interval.dividedBy(10) : b.jitter;
    this.timeout = b.timeout;
    this.rise = b.rise;
    this.fall = b.fall;
    this.ownScheduler = b.scheduler == null;
    this.scheduler = b.scheduler == null ? Scheduling.ownScheduler("affinity-health") : b.scheduler;
    if (b.probeExecutor == null) {
      ExecutorService pool =
          Executors.newFixedThreadPool(b.probeThreads, Scheduling.daemonThreads("affinity-probe"));
      this.ownProbes = pool;
      this.probes = pool;
    } else {
      this.ownProbes = null;
      this.probes = b.probeExecutor;
    }
    this.random = b.random == null ? new Random() : b.random;
  }

  /** Returns a builder for a checker of {@code group}'s members. */
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
  public HealthChecker start() {
    synchronized (startLock) {
      if (started || closed) {
        throw new IllegalStateException(
            closed ? "checker is closed" : "checker is already started");
      }
      started = true;
    }
    group.addListener(listener);
    submit(this::sync);
    return this;
  }

  /** Starts checks for new members and forgets removed ones. */
  private void sync() {
    Membership m = group.snapshot();
    for (Member member : m.members()) {
      if (!checks.containsKey(member.id())) {
        Check c = new Check(member.id());
        checks.put(member.id(), c);
        // A random first offset spreads the probes of many backends over the interval.
        c.scheduleIn((long) (random.nextDouble() * Scheduling.saturatedNanos(interval)));
      }
    }
    checks
        .entrySet()
        .removeIf(
            e -> {
              if (m.member(e.getKey()) == null) {
                e.getValue().cancel();
                return true;
              }
              return false;
            });
  }

  /**
   * Whether the checker currently considers {@code id} healthy; true for a backend it has not
   * probed enough times to judge, or does not know.
   */
  public boolean isHealthy(String id) {
    Member m = group.snapshot().member(requireNonNull(id, "id"));
    return m == null || (LifecycleHooks.healthFlags(m) & LifecycleHooks.UNHEALTHY) == 0;
  }

  /** Stops probing. Health flags already set stay until the group changes them. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    group.removeListener(listener);
    if (ownScheduler) {
      scheduler.shutdownNow();
    } else {
      // Not submit(): it skips work once closed, and this is the work closing leaves to do.
      try {
        scheduler.execute(
            () -> {
              checks.values().forEach(Check::cancel);
              checks.clear();
            });
      } catch (RejectedExecutionException e) {
        LOG.log(Level.DEBUG, "the shared scheduler shut down before the checks were cancelled", e);
      }
    }
    if (ownProbes != null) {
      ownProbes.shutdownNow();
    }
  }

  private void submit(Runnable task) {
    Scheduling.submitUnlessClosed(scheduler, () -> closed, task, LOG, "health check");
  }

  @Override
  public String toString() {
    return "HealthChecker{"
        + probe
        + ", interval="
        + interval
        + " ± "
        + jitter
        + ", timeout="
        + timeout
        + ", fall="
        + fall
        + ", rise="
        + rise
        + "}";
  }

  /** The probing state of one backend; touched only on the scheduler thread. */
  private final class Check {
    final String id;
    int successes;
    int failures;
    @Nullable ScheduledFuture<?> next;
    boolean cancelled;

    Check(String id) {
      this.id = id;
    }

    void scheduleIn(long nanos) {
      if (cancelled || closed) {
        return;
      }
      try {
        next = scheduler.schedule(this::run, nanos, TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        if (!closed) {
          LOG.log(Level.WARNING, "health check scheduler rejected a probe", e);
        }
      }
    }

    void cancel() {
      cancelled = true;
      ScheduledFuture<?> f = next;
      if (f != null) {
        f.cancel(false);
      }
    }

    void run() {
      if (cancelled || closed) {
        return;
      }
      Member m = group.snapshot().member(id);
      if (m == null) {
        return;
      }
      Backend backend = m.backend();
      try {
        probes.execute(() -> probeOnProbeThread(backend));
      } catch (RejectedExecutionException e) {
        if (!closed) {
          LOG.log(Level.WARNING, "health probe executor rejected a probe of " + id, e);
          scheduleNext();
        }
      }
    }

    private void probeOnProbeThread(Backend backend) {
      Throwable failure = null;
      try {
        probe.probe(backend, timeout);
      } catch (Exception | LinkageError e) {
        failure = e;
      }
      Throwable f = failure;
      submit(() -> record(backend, f));
    }

    private void record(Backend backend, @Nullable Throwable failure) {
      if (cancelled) {
        return;
      }
      if (failure == null) {
        failures = 0;
        successes++;
        if (successes >= rise && !isHealthy(id)) {
          if (LifecycleHooks.setHealthFlag(group, id, LifecycleHooks.UNHEALTHY, false)) {
            LOG.log(Level.INFO, "backend {0} passed {1} health checks: healthy", id, rise);
          }
        }
      } else {
        successes = 0;
        failures++;
        if (failures >= fall && isHealthy(id)) {
          if (LifecycleHooks.setHealthFlag(group, id, LifecycleHooks.UNHEALTHY, true)) {
            LOG.log(
                Level.WARNING,
                "backend {0} ({1}:{2}) failed {3} health checks, last: {4}",
                id,
                backend.host(),
                String.valueOf(backend.port()),
                fall,
                String.valueOf(failure));
          }
        } else {
          LOG.log(Level.DEBUG, "health probe of {0} failed: {1}", id, failure);
        }
      }
      scheduleNext();
    }

    private void scheduleNext() {
      long base = Scheduling.saturatedNanos(interval);
      long j = Scheduling.saturatedNanos(jitter);
      long delay = base + (long) ((random.nextDouble() * 2 - 1) * j);
      scheduleIn(Math.max(0, delay));
    }
  }

  /** Builds a {@link HealthChecker}; only the probe is required. */
  public static final class Builder {
    private final BackendGroup group;
    private @Nullable HealthProbe probe;
    private Duration interval = DEFAULT_INTERVAL;
    private @Nullable Duration jitter;
    private Duration timeout = DEFAULT_TIMEOUT;
    private int rise = DEFAULT_RISE;
    private int fall = DEFAULT_FALL;
    private int probeThreads = 2;
    private @Nullable ScheduledExecutorService scheduler;
    private @Nullable Executor probeExecutor;
    private @Nullable Random random;

    private Builder(BackendGroup group) {
      this.group = group;
    }

    /** The check to run, such as {@link HealthProbe#tcp()} or {@link HealthProbe#webSocket}. */
    public Builder probe(HealthProbe probe) {
      this.probe = requireNonNull(probe, "probe");
      return this;
    }

    /**
     * Time between the end of one probe of a backend and the start of the next; default {@code 5s}.
     *
     * @throws AffinityConfigurationException unless positive
     */
    public Builder interval(Duration interval) {
      this.interval = Scheduling.positive(interval, "interval");
      return this;
    }

    /**
     * How far each interval may randomly stray either way; default a tenth of the interval.
     *
     * @throws AffinityConfigurationException unless {@code 0 <= jitter <= interval} (checked at
     *     {@link #build()})
     */
    public Builder jitter(Duration jitter) {
      requireNonNull(jitter, "jitter");
      check(!jitter.isNegative(), "jitter", jitter, ">= 0");
      this.jitter = jitter;
      return this;
    }

    /**
     * How long one probe may take; default {@code 2s}.
     *
     * @throws AffinityConfigurationException unless positive
     */
    public Builder timeout(Duration timeout) {
      this.timeout = Scheduling.positive(timeout, "timeout");
      return this;
    }

    /**
     * Consecutive successes that make an unhealthy backend healthy; default {@value #DEFAULT_RISE}.
     *
     * @throws AffinityConfigurationException unless 1..100
     */
    public Builder rise(int rise) {
      check(rise >= 1 && rise <= 100, "rise", rise, "1..100");
      this.rise = rise;
      return this;
    }

    /**
     * Consecutive failures that make a healthy backend unhealthy; default {@value #DEFAULT_FALL}.
     *
     * @throws AffinityConfigurationException unless 1..100
     */
    public Builder fall(int fall) {
      check(fall >= 1 && fall <= 100, "fall", fall, "1..100");
      this.fall = fall;
      return this;
    }

    /**
     * How many probes may run at once on the checker's own probe threads; default 2. Probes block
     * for up to the timeout, so give large groups more.
     *
     * @throws AffinityConfigurationException unless 1..256
     */
    public Builder probeThreads(int threads) {
      check(threads >= 1 && threads <= 256, "probeThreads", threads, "1..256");
      this.probeThreads = threads;
      return this;
    }

    /**
     * Runs probes on {@code executor} instead of the checker's own threads. It must not be an
     * adapter event loop: probes block.
     */
    public Builder probeExecutor(Executor executor) {
      this.probeExecutor = requireNonNull(executor, "executor");
      return this;
    }

    /**
     * The scheduler for probe timing; default a daemon thread of the checker's own. A given
     * scheduler is left running by {@link #close()}.
     */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = requireNonNull(scheduler, "scheduler");
      return this;
    }

    /** The source of jitter; default a new {@link Random}. */
    public Builder random(Random random) {
      this.random = requireNonNull(random, "random");
      return this;
    }

    /**
     * Returns a checker that runs once {@link HealthChecker#start() started}.
     *
     * @throws AffinityConfigurationException if no probe was given or the jitter exceeds the
     *     interval
     */
    public HealthChecker build() {
      check(probe != null, "probe", "null", "a HealthProbe");
      Duration j = jitter == null ? interval.dividedBy(10) : jitter;
      check(j.compareTo(interval) <= 0, "jitter", j, "<= interval " + interval);
      HealthChecker checker = new HealthChecker(this);
      return checker;
    }
  }
}

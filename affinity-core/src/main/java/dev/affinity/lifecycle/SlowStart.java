package dev.affinity.lifecycle;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.LifecycleHooks;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Slow start: a backend that joins the group or comes back UP (from DOWN or DRAINING) starts at a
 * fraction of its weight and ramps linearly to its full weight over a window, so a cold backend is
 * not handed its whole share of new clients at once. Strategies see the ramp through {@link
 * Member#effectiveWeight()}; with hash strategies, keys move onto the ramping backend gradually and
 * never away from it (raising one rendezvous weight only wins it keys).
 *
 * <pre>{@code
 * SlowStart slowStart = SlowStart.builder(group).window(Duration.ofMinutes(2)).build().start();
 * }</pre>
 *
 * <p>The ramp advances in steps (default a twentieth of the window): each step publishes a new
 * snapshot, so listeners hear it and the membership {@linkplain Membership#fingerprint()
 * fingerprint} changes with it. Members already UP when slow start {@linkplain #start() starts} are
 * not ramped. Time comes from the group's clock.
 *
 * <p>{@link Builder#build()} installs and schedules nothing; {@link #start()} does, and {@link
 * #close()} undoes it. The ramp steps run on {@link Builder#scheduler the scheduler given} (share
 * one with the other lifecycle components) or on a daemon thread of its own.
 */
public final class SlowStart implements AutoCloseable {
  /** The smallest share of its weight a ramping backend gets unless told otherwise. */
  public static final int DEFAULT_MIN_WEIGHT_PERCENT = 10;

  private final BackendGroup group;
  private final Duration window;
  private final double minFactor;
  // Members UP when slow start was installed, with the instant their UP period began: not ramped.
  private volatile Map<String, Instant> exempt = Map.of();
  private final ScheduledExecutorService scheduler;
  private final boolean ownScheduler;
  private final long stepNanos;
  private final Object startLock = new Object();
  private @Nullable ScheduledFuture<?> ticks; // guarded by startLock
  private boolean started; // guarded by startLock
  private volatile boolean closed;

  private SlowStart(Builder b) {
    this.group = b.group;
    this.window = requireNonNull(b.window, "window");
    this.minFactor = b.minWeightPercent / 100.0;
    this.ownScheduler = b.scheduler == null;
    this.scheduler =
        b.scheduler == null ? Scheduling.ownScheduler("affinity-slow-start") : b.scheduler;
    Duration step = b.step == null ? window.dividedBy(20) : b.step;
    this.stepNanos = Math.max(1, Scheduling.saturatedNanos(step));
  }

  /**
   * Starts: members UP now keep their full weight, new and recovering ones ramp from here on, and
   * the ramp steps are scheduled. {@link Builder#build()} starts nothing.
   *
   * @return this
   * @throws IllegalStateException if already started, or closed
   * @throws java.util.concurrent.RejectedExecutionException if the scheduler refuses the steps
   *     (nothing is installed then)
   */
  public SlowStart start() {
    synchronized (startLock) {
      if (started || closed) {
        throw new IllegalStateException(
            closed ? "slow start is closed" : "slow start is already started");
      }
      Map<String, Instant> present = new HashMap<>();
      for (Member m : group.snapshot().members()) {
        present.put(m.id(), m.stateSince());
      }
      exempt = Map.copyOf(present);
      LifecycleHooks.weightRamp(group, this::factor);
      try {
        ticks =
            scheduler.scheduleAtFixedRate(
                () -> {
                  if (!closed) {
                    LifecycleHooks.refreshWeights(group);
                  }
                },
                stepNanos,
                stepNanos,
                TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        LifecycleHooks.weightRamp(group, null);
        throw e;
      }
      started = true;
    }
    return this;
  }

  /** Returns a builder for slow start over {@code group}; the window is required. */
  public static Builder builder(BackendGroup group) {
    return new Builder(requireNonNull(group, "group"));
  }

  /** The weight factor of {@code m} at {@code now}: in [minimum, 1], 1 outside a ramp. */
  double factor(Member m, Instant now) {
    if (m.state() != BackendState.UP || m.stateSince().equals(exempt.get(m.id()))) {
      return 1.0;
    }
    Duration elapsed = Duration.between(m.stateSince(), now);
    if (elapsed.compareTo(window) >= 0) {
      return 1.0;
    }
    double f = (double) Scheduling.saturatedNanos(elapsed) / Scheduling.saturatedNanos(window);
    return Math.max(minFactor, f);
  }

  /**
   * Stops ramping: every member gets its full weight at once. Shuts the scheduler down if it is
   * slow start's own; a given scheduler is left running. Idempotent.
   */
  @Override
  public void close() {
    synchronized (startLock) {
      if (closed) {
        return;
      }
      closed = true;
      ScheduledFuture<?> t = ticks;
      if (t != null) {
        t.cancel(false);
      }
      if (started) {
        LifecycleHooks.weightRamp(group, null);
      }
    }
    if (ownScheduler) {
      scheduler.shutdownNow();
    }
  }

  @Override
  public String toString() {
    return "SlowStart{window=" + window + ", minWeight=" + (int) (minFactor * 100) + "%}";
  }

  /** Builds a {@link SlowStart}. */
  public static final class Builder {
    private final BackendGroup group;
    private @Nullable Duration window;
    private @Nullable Duration step;
    private int minWeightPercent = DEFAULT_MIN_WEIGHT_PERCENT;
    private @Nullable ScheduledExecutorService scheduler;

    private Builder(BackendGroup group) {
      this.group = group;
    }

    /**
     * How long the ramp from the minimum to the full weight lasts. Required.
     *
     * @throws AffinityConfigurationException unless positive
     */
    public Builder window(Duration window) {
      this.window = Scheduling.positive(window, "window");
      return this;
    }

    /**
     * How often the ramp advances; default a twentieth of the window.
     *
     * @throws AffinityConfigurationException unless positive
     */
    public Builder step(Duration step) {
      this.step = Scheduling.positive(step, "step");
      return this;
    }

    /**
     * The share of its weight a backend gets when its ramp begins, in percent; default {@value
     * #DEFAULT_MIN_WEIGHT_PERCENT}.
     *
     * @throws AffinityConfigurationException unless 1..100
     */
    public Builder minWeightPercent(int percent) {
      check(percent >= 1 && percent <= 100, "minWeightPercent", percent, "1..100");
      this.minWeightPercent = percent;
      return this;
    }

    /**
     * The scheduler for the ramp steps; default a daemon thread of its own, started by {@link
     * SlowStart#start()} and shut down by {@link SlowStart#close()}. A given scheduler (one shared
     * by every lifecycle component, say) is left running.
     */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * Returns slow start over the group, not yet started: {@link SlowStart#start()} installs it.
     *
     * @throws AffinityConfigurationException if no window was given
     */
    public SlowStart build() {
      check(window != null, "window", "null", "a positive duration");
      return new SlowStart(this);
    }
  }
}

package dev.affinity.lifecycle;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Delayed;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/** Threads and delays shared by the lifecycle components. */
final class Scheduling {
  private Scheduling() {}

  /** A single daemon thread named {@code name-N}. */
  static ScheduledExecutorService ownScheduler(String name) {
    return Executors.newSingleThreadScheduledExecutor(daemonThreads(name));
  }

  static ThreadFactory daemonThreads(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * Returns {@code d} if it is positive.
   *
   * @throws dev.affinity.AffinityConfigurationException if it is zero or negative
   */
  static Duration positive(Duration d, String field) {
    requireNonNull(d, field);
    check(!d.isNegative() && !d.isZero(), field, d, "> 0");
    return d;
  }

  /** Nanoseconds from {@code now} until {@code at}, at least zero. */
  static long nanosUntil(Instant now, Instant at) {
    Duration d = Duration.between(now, at);
    return d.isNegative() ? 0 : saturatedNanos(d);
  }

  static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }

  /**
   * Runs {@code task} on {@code scheduler} unless {@code closed} reads true by then. A rejection is
   * expected once the component closed (its own scheduler shut down) and logged as a warning
   * before.
   */
  static void submitUnlessClosed(
      ScheduledExecutorService scheduler,
      BooleanSupplier closed,
      Runnable task,
      System.Logger log,
      String component) {
    try {
      scheduler.execute(
          () -> {
            if (!closed.getAsBoolean()) {
              task.run();
            }
          });
    } catch (RejectedExecutionException e) {
      if (!closed.getAsBoolean()) {
        log.log(System.Logger.Level.WARNING, component + " scheduler rejected a task", e);
      }
    }
  }

  /** A future for work that was never scheduled because the scheduler had shut down. */
  static final class CancelledFuture implements ScheduledFuture<Object> {
    static final CancelledFuture INSTANCE = new CancelledFuture();

    @Override
    public long getDelay(TimeUnit unit) {
      return 0;
    }

    @Override
    public int compareTo(Delayed o) {
      return Long.compare(0, o.getDelay(TimeUnit.NANOSECONDS));
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      return false;
    }

    @Override
    public boolean isCancelled() {
      return true;
    }

    @Override
    public boolean isDone() {
      return true;
    }

    @Override
    public Object get() {
      throw new CancellationException();
    }

    @Override
    public Object get(long timeout, TimeUnit unit) {
      throw new CancellationException();
    }
  }
}

package dev.affinity.testkit;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A deterministic scheduler with its own fake clock: nothing runs until the test advances time,
 * then due tasks run on the test's thread in time order (ties in submission order), the clock set
 * to each task's time. Tests built on it do not depend on how fast the machine is.
 *
 * <p>Give the same clock to the code under test (for example {@code BackendGroup.create(
 * scheduler.clock())} and {@code ConnectionLifecycle.builder(group).scheduler(scheduler)}), so that
 * the deadlines it computes and the delays it schedules agree. Other threads may submit tasks at
 * any time; only {@link #advance} and {@link #runDue} run them, on the calling thread.
 */
public final class ManualScheduler extends AbstractExecutorService
    implements ScheduledExecutorService {
  private final PriorityQueue<Task<?>> queue = new PriorityQueue<>();
  private Instant now;
  private long sequence;
  private boolean shutdown;

  /**
   * A scheduler whose clock starts at {@code start}.
   *
   * @param start the clock's first instant
   */
  public ManualScheduler(Instant start) {
    this.now = start;
  }

  /** The clock the scheduler runs by; give the same one to the group. */
  public InstantSource clock() {
    return this::now;
  }

  /** The clock's current instant. */
  public synchronized Instant now() {
    return now;
  }

  /** Runs every task due by {@code now + d}, then leaves the clock at {@code now + d}. */
  public void advance(Duration d) {
    Instant until;
    synchronized (this) {
      until = now.plus(d);
    }
    while (true) {
      Task<?> t;
      synchronized (this) {
        t = queue.peek();
        if (t == null || t.at.isAfter(until)) {
          now = until;
          return;
        }
        queue.poll();
        if (t.at.isAfter(now)) {
          now = t.at;
        }
      }
      t.run();
    }
  }

  /** Runs what is due now, including tasks those tasks submit for now. */
  public void runDue() {
    advance(Duration.ZERO);
  }

  /** How many tasks are queued and not cancelled. */
  public synchronized int pending() {
    return (int) queue.stream().filter(t -> !t.isCancelled()).count();
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    return enqueue(
        () -> {
          command.run();
          return null;
        },
        delay,
        unit,
        0);
  }

  @Override
  public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
    return enqueue(callable, delay, unit, 0);
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(
      Runnable command, long initialDelay, long period, TimeUnit unit) {
    return enqueue(
        () -> {
          command.run();
          return null;
        },
        initialDelay,
        unit,
        unit.toNanos(period));
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(
      Runnable command, long initialDelay, long delay, TimeUnit unit) {
    return scheduleAtFixedRate(command, initialDelay, delay, unit);
  }

  @Override
  public void execute(Runnable command) {
    schedule(command, 0, TimeUnit.NANOSECONDS);
  }

  private synchronized <V> Task<V> enqueue(
      Callable<V> c, long delay, TimeUnit unit, long periodNanos) {
    if (shutdown) {
      throw new java.util.concurrent.RejectedExecutionException("shut down");
    }
    Task<V> t = new Task<>(c, now.plusNanos(unit.toNanos(Math.max(0, delay))), periodNanos);
    queue.add(t);
    return t;
  }

  @Override
  public synchronized void shutdown() {
    shutdown = true;
  }

  @Override
  public synchronized List<Runnable> shutdownNow() {
    shutdown = true;
    List<Runnable> out = new ArrayList<>(queue);
    queue.clear();
    return out;
  }

  @Override
  public synchronized boolean isShutdown() {
    return shutdown;
  }

  @Override
  public synchronized boolean isTerminated() {
    return shutdown && queue.isEmpty();
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) {
    return isTerminated();
  }

  @Override
  public <T> List<java.util.concurrent.Future<T>> invokeAll(
      Collection<? extends Callable<T>> tasks) {
    throw new UnsupportedOperationException();
  }

  private final class Task<V> implements ScheduledFuture<V>, Runnable {
    private final Callable<V> callable;
    private final long periodNanos;
    private final long seq;
    private Instant at;
    private volatile boolean cancelled;
    private volatile boolean done;

    Task(Callable<V> callable, Instant at, long periodNanos) {
      this.callable = callable;
      this.at = at;
      this.periodNanos = periodNanos;
      this.seq = sequence++;
    }

    @Override
    public void run() {
      if (cancelled) {
        return;
      }
      try {
        callable.call();
      } catch (Exception e) {
        throw new AssertionError("scheduled task failed", e);
      }
      if (periodNanos > 0 && !cancelled) {
        synchronized (ManualScheduler.this) {
          at = at.plusNanos(periodNanos);
          if (!shutdown) {
            queue.add(this);
          }
        }
      } else {
        done = true;
      }
    }

    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(Duration.between(now(), at).toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public int compareTo(Delayed o) {
      Task<?> t = (Task<?>) o;
      int c = at.compareTo(t.at);
      return c != 0 ? c : Long.compare(seq, t.seq);
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean was = !cancelled && !done;
      cancelled = true;
      return was;
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public boolean isDone() {
      return done || cancelled;
    }

    @Override
    public V get() {
      throw new UnsupportedOperationException();
    }

    @Override
    public V get(long timeout, TimeUnit unit) {
      throw new UnsupportedOperationException();
    }
  }
}

package dev.affinity.testkit;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * The one way tests wait for something another thread does: poll a condition until it holds or a
 * timeout passes. The timeout only bounds a failing test; a passing one returns as soon as the
 * condition holds, so nothing here asserts how fast anything is.
 */
public final class Await {
  private static final long POLL_MILLIS = 5;

  private Await() {}

  /**
   * Returns once {@code condition} holds; fails naming {@code what} and the timeout if it does not
   * hold within {@code timeout}.
   *
   * @param what what is awaited, for the failure message ("the tunnel is closed")
   * @param timeout how long to wait at most
   * @param condition the condition, polled on the calling thread
   * @throws AssertionError if the condition does not hold in time, or the thread is interrupted
   */
  public static void until(String what, Duration timeout, BooleanSupplier condition) {
    requireNonNull(what, "what");
    requireNonNull(condition, "condition");
    long deadline = System.nanoTime() + requireNonNull(timeout, "timeout").toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out after " + timeout + " waiting until " + what);
      }
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting until " + what, e);
      }
    }
  }
}

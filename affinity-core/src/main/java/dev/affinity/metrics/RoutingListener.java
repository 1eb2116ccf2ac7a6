package dev.affinity.metrics;

import dev.affinity.RoutingDecision;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.Membership;
import org.jspecify.annotations.Nullable;

/**
 * Hears what a {@link dev.affinity.Router} does: the one seam for metrics, tracing and logging.
 * Every method has a no-op default, so implement only what you need.
 *
 * <p>The contract (OkHttp's {@code EventListener}'s): methods are called on routing and I/O
 * threads, including Netty event loops, so they must be <b>fast, non-blocking and lock-free</b>. A
 * listener that throws is logged once and otherwise ignored; it never breaks routing.
 */
public interface RoutingListener {
  /** A listener that does nothing. */
  RoutingListener NOOP = new RoutingListener() {};

  /**
   * A decision was made, whatever its outcome (including {@link dev.affinity.Outcome#NO_BACKEND}
   * and {@link dev.affinity.Outcome#REJECTED}). Building {@link RoutingDecision#explanation()} here
   * costs string work: do it only when you log at DEBUG.
   */
  default void decisionMade(RoutingDecision decision) {}

  /** A strategy threw (and was treated as abstaining). */
  default void strategyFailed(String strategy, Throwable error) {}

  /** A connection to {@code backend} was opened and counted. */
  default void connectionOpened(Backend backend) {}

  /** A counted connection to {@code backend} ended. */
  default void connectionClosed(Backend backend) {}

  /** An adapter could not connect to, or complete a handshake with, {@code backend}. */
  default void connectFailed(Backend backend, Throwable cause) {}

  /**
   * The membership changed (a backend was added, removed, updated, changed state or weight). Called
   * after the per-backend {@link #backendStateChanged} events of the change. Compare {@code
   * membership.fingerprint()} across proxy instances to detect disagreement.
   */
  default void membershipChanged(Membership membership) {}

  /**
   * A backend changed state. {@code from} is null when it was added; {@code to} is null when it was
   * removed.
   *
   * @param fingerprint the membership fingerprint after the change
   */
  default void backendStateChanged(
      Backend backend,
      @Nullable BackendState from,
      @Nullable BackendState to,
      String fingerprint) {}
}

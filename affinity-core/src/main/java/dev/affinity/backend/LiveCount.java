package dev.affinity.backend;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend's live connection count on this instance (the atomic value, exact), plus what the other
 * instances of a fleet last reported for it ({@link #others}, zero without a fleet). Shared by
 * every snapshot of the backend, like the count itself.
 */
@SuppressWarnings("serial") // never serialized
final class LiveCount extends AtomicInteger {
  /** The other instances' last reported live connections; written by the fleet, read by routing. */
  volatile int others;

  /** This instance's exact count plus the others' last reported counts. */
  int fleet() {
    return get() + others;
  }
}

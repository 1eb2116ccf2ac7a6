package dev.affinity;

/** What kind of decision a {@link RoutingDecision} is. */
public enum Outcome {
  /** The client was sent back to the backend its affinity (cookie, token, key) names. */
  AFFINITY_HIT,
  /** The client had no usable affinity and was given a backend. */
  FIRST_ASSIGNMENT,
  /**
   * The client's affinity named a backend that can no longer take it (removed, down, drained past
   * its deadline) and it was given another.
   */
  FAILOVER,
  /**
   * The client's owner was at its cap or its bounded load, and the next backend in its order took
   * it.
   */
  SPILL_OVER,
  /** No backend can take the client; adapters answer 503. */
  NO_BACKEND,
  /** A strategy refused the client (for example an invalid token under a reject policy); 401. */
  REJECTED;

  /** Whether the decision names a backend. */
  public boolean hasBackend() {
    return this != NO_BACKEND && this != REJECTED;
  }
}

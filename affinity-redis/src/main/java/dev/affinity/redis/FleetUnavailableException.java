package dev.affinity.redis;

import dev.affinity.AffinityException;

/**
 * A fleet-wide change could not be stored because Redis was unreachable or did not answer in time.
 * Routing is unaffected: every instance keeps its last known state.
 */
public final class FleetUnavailableException extends AffinityException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what could not be done
   * @param cause the Redis failure
   */
  public FleetUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}

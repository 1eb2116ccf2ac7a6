package dev.affinity.redis;

import java.time.Duration;

/**
 * A point-in-time view of one instance's place in the fleet, for metrics and health endpoints.
 *
 * @param instanceId this instance's id
 * @param degraded whether Redis is unreachable right now: the instance routes on its last known
 *     state and local counts
 * @param degradedEpisodes how many times the instance has lost Redis since it started
 * @param appliedVersion the version of the shared operator state this instance has applied (0
 *     before the first)
 * @param instances live instances seen at the last heartbeat, this one included
 * @param agreeing of those, how many report this instance's membership fingerprint (this one
 *     included); {@code agreeing == instances} when the fleet agrees
 * @param fingerprint this instance's membership fingerprint
 * @param sinceLastSync how long ago Redis last answered a heartbeat (since the start, before the
 *     first): a few heartbeats at most while the fleet is healthy, growing while degraded
 */
public record FleetStatus(
    String instanceId,
    boolean degraded,
    long degradedEpisodes,
    long appliedVersion,
    int instances,
    int agreeing,
    String fingerprint,
    Duration sinceLastSync) {

  /** Whether every live instance reports the same membership fingerprint. */
  public boolean agrees() {
    return agreeing == instances;
  }
}

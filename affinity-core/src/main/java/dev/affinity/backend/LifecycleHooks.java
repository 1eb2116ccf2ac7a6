package dev.affinity.backend;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * <b>Not API.</b> The hooks into a {@link BackendGroup} that the lifecycle components of {@code
 * dev.affinity.lifecycle} (health checks, outlier detection, slow start, connection lifecycle) use.
 * Applications use those components, never these hooks; they may change in any release.
 */
public final class LifecycleHooks {
  /** Health flag: failed its active health checks. */
  public static final int UNHEALTHY = Member.UNHEALTHY;

  /** Health flag: ejected by passive outlier detection. */
  public static final int EJECTED = Member.EJECTED;

  private LifecycleHooks() {}

  /**
   * Sets or clears one health flag of a member and republishes if that changed anything.
   *
   * @return whether the flag changed
   */
  public static boolean setHealthFlag(BackendGroup group, String id, int flag, boolean set) {
    return requireNonNull(group, "group").setHealthFlag(id, flag, set);
  }

  /** The health flags of a member: {@link #UNHEALTHY} and {@link #EJECTED}, or 0. */
  public static int healthFlags(Member member) {
    return requireNonNull(member, "member").healthFlags();
  }

  /** Installs (or, with null, removes) the slow-start ramp and republishes. */
  public static void weightRamp(BackendGroup group, @Nullable WeightRamp ramp) {
    requireNonNull(group, "group").weightRamp(ramp);
  }

  /**
   * Republishes if the ramp now gives any member another weight factor.
   *
   * @return whether a new snapshot was published
   */
  public static boolean refreshWeights(BackendGroup group) {
    return requireNonNull(group, "group").refreshWeights();
  }

  /**
   * Counts one open connection against {@code backend} that the lifecycle machinery may close
   * through {@code closer}; {@code owner}, when given, lets selective re-homing find out whether a
   * membership change moved the connection's key to another backend.
   */
  public static ConnectionLease openConnection(
      BackendGroup group, Backend backend, ConnectionCloser closer, @Nullable OwnerLookup owner) {
    return requireNonNull(group, "group").openTracked(backend, closer, owner);
  }

  /** The open leases of backend {@code id} that have a closer: a point-in-time copy. */
  public static List<TrackedLease> trackedLeases(BackendGroup group, String id) {
    return requireNonNull(group, "group").trackedLeases(requireNonNull(id, "id"));
  }

  /** Every open lease of the group that has a closer: a point-in-time copy. */
  public static List<TrackedLease> trackedLeases(BackendGroup group) {
    return requireNonNull(group, "group").trackedLeases();
  }

  /** Computes a member's slow-start weight factor; pure and fast, called under the group lock. */
  @FunctionalInterface
  public interface WeightRamp {
    /** A factor in (0, 1] for {@code member} at {@code now}. */
    double factor(Member member, Instant now);
  }

  /** A lease opened with a {@link ConnectionCloser}: what the connection lifecycle works on. */
  public interface TrackedLease extends ConnectionLease {
    /** Whether the lifecycle machinery has asked the adapter to close this connection. */
    boolean isCloseRequested();

    /** Asks the adapter to close the connection, once. Returns whether this call did ask. */
    boolean requestClose(CloseReason reason);

    /** How re-homing recomputes the connection's owner, or null. */
    @Nullable OwnerLookup owner();

    /** When the lease was opened, by the group's clock. */
    @Nullable Instant openedAt();

    /** The snapshot version current when the lease was opened. */
    long openedVersion();

    /** The lifetime deadline set by the lifetime enforcer, or null. */
    @Nullable Instant lifetimeDeadline();

    /** Sets the lifetime deadline; called once, on the lifecycle's thread. */
    void lifetimeDeadline(Instant deadline);
  }
}

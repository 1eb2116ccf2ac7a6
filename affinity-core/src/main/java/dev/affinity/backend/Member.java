package dev.affinity.backend;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * One backend as seen in a {@link Membership} snapshot: the {@link Backend}, its state, when that
 * state began, its effective weight, and a live view of its open connection count.
 *
 * <p>The {@linkplain #state() state} routing obeys combines the administrative state (set by {@link
 * BackendGroup#markUp}, {@link BackendGroup#markDown}, {@link BackendGroup#drain}) with health: a
 * backend that fails its active health checks or is ejected by passive outlier detection is {@link
 * BackendState#DOWN DOWN} whatever its administrative state, and returns to it when healthy again.
 *
 * <p>Everything but {@link #liveConnections()} is fixed for the life of the snapshot; the count is
 * shared with later snapshots of the same backend, so it is always current.
 */
public final class Member {
  /** Health flag: failed its active health checks. */
  static final int UNHEALTHY = 1;

  /** Health flag: ejected by passive outlier detection. */
  static final int EJECTED = 2;

  private final Backend backend;
  private final BackendState adminState;
  private final int healthFlags;
  private final Instant stateSince;
  private final @Nullable Instant drainDeadline;
  private final double weightFactor;
  private final LiveCount live;
  private final int index;

  Member(
      Backend backend,
      BackendState adminState,
      int healthFlags,
      Instant stateSince,
      @Nullable Instant drainDeadline,
      double weightFactor,
      LiveCount live,
      int index) {
    this.backend = backend;
    this.adminState = adminState;
    this.healthFlags = healthFlags;
    this.stateSince = stateSince;
    this.drainDeadline = drainDeadline;
    this.weightFactor = weightFactor;
    this.live = live;
    this.index = index;
  }

  Member with(int newIndex, double newFactor) {
    return newIndex == index && newFactor == weightFactor
        ? this
        : new Member(
            backend, adminState, healthFlags, stateSince, drainDeadline, newFactor, live, newIndex);
  }

  LiveCount counter() {
    return live;
  }

  int healthFlags() {
    return healthFlags;
  }

  double weightFactor() {
    return weightFactor;
  }

  /** The backend. */
  public Backend backend() {
    return backend;
  }

  /** Shorthand for {@code backend().id()}. */
  public String id() {
    return backend.id();
  }

  /**
   * The state routing obeys: {@link BackendState#DOWN DOWN} while the backend is unhealthy or
   * ejected, otherwise its {@linkplain #adminState() administrative state}.
   */
  public BackendState state() {
    return healthFlags != 0 ? BackendState.DOWN : adminState;
  }

  /** The state last set by an operator through the group, ignoring health. */
  public BackendState adminState() {
    return adminState;
  }

  /** Whether the backend passes its health checks (or has none) and is not ejected. */
  public boolean isHealthy() {
    return healthFlags == 0;
  }

  /** Whether passive outlier detection has ejected the backend. */
  public boolean isEjected() {
    return (healthFlags & EJECTED) != 0;
  }

  /** When the backend entered {@link #state()}, by the group's clock. */
  public Instant stateSince() {
    return stateSince;
  }

  /**
   * For a backend drained with a deadline: when returning clients stop being honoured and the
   * connections that remain are closed. Otherwise null.
   */
  public @Nullable Instant drainDeadline() {
    return drainDeadline;
  }

  /**
   * The weight strategies use: {@code backend().weight()}, scaled down while the backend is in its
   * slow-start ramp (see {@link dev.affinity.lifecycle.SlowStart}). Always greater than zero.
   */
  public double effectiveWeight() {
    return backend.weight() * weightFactor;
  }

  /** The position of this member in {@link Membership#members()} (sorted by id). */
  public int index() {
    return index;
  }

  /** Live connections on this instance right now (leases opened and not yet closed). */
  public int liveConnections() {
    return live.get();
  }

  /**
   * The load routing weighs: this instance's exact {@link #liveConnections()} plus what the other
   * instances of a fleet last reported (see {@link BackendGroup#otherInstancesConnections}). Equal
   * to {@link #liveConnections()} without a fleet.
   */
  public int fleetConnections() {
    return live.fleet();
  }

  /**
   * Whether one more connection fits under the backend's cap (always true without a cap), counting
   * the whole fleet's connections ({@link #fleetConnections()}).
   */
  public boolean hasCapacity() {
    int cap = backend.maxConnectionsOrZero();
    return cap == 0 || live.fleet() < cap;
  }

  /** Whether a client this backend has never seen may be sent here: UP and under its cap. */
  public boolean acceptsNewClients() {
    return state() == BackendState.UP && hasCapacity();
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(backend.id()).append('[').append(state());
    if (healthFlags != 0) {
      sb.append(isEjected() ? ", ejected" : ", unhealthy");
      if (adminState != BackendState.UP) {
        sb.append(", admin=").append(adminState);
      }
    }
    if (weightFactor != 1.0) {
      sb.append(", weight=")
          .append(String.format(java.util.Locale.ROOT, "%.2f", effectiveWeight()));
    }
    return sb.append(", live=").append(live.get()).append(']').toString();
  }
}

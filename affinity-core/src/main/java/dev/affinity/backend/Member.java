package dev.affinity.backend;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One backend as seen in a {@link Membership} snapshot: the {@link Backend}, its state, when that
 * state began, and a live view of its open connection count.
 *
 * <p>Everything but {@link #liveConnections()} is fixed for the life of the snapshot; the count is
 * shared with later snapshots of the same backend, so it is always current.
 */
public final class Member {
  private final Backend backend;
  private final BackendState state;
  private final Instant stateSince;
  private final @Nullable Instant drainDeadline;
  private final AtomicInteger live;
  private final int index;

  Member(
      Backend backend,
      BackendState state,
      Instant stateSince,
      @Nullable Instant drainDeadline,
      AtomicInteger live,
      int index) {
    this.backend = backend;
    this.state = state;
    this.stateSince = stateSince;
    this.drainDeadline = drainDeadline;
    this.live = live;
    this.index = index;
  }

  Member withIndex(int newIndex) {
    return newIndex == index
        ? this
        : new Member(backend, state, stateSince, drainDeadline, live, newIndex);
  }

  AtomicInteger counter() {
    return live;
  }

  /** The backend. */
  public Backend backend() {
    return backend;
  }

  /** Shorthand for {@code backend().id()}. */
  public String id() {
    return backend.id();
  }

  /** The state in this snapshot. */
  public BackendState state() {
    return state;
  }

  /** When the backend entered {@link #state()}, by the group's clock. */
  public Instant stateSince() {
    return stateSince;
  }

  /**
   * For a {@link BackendState#DRAINING DRAINING} backend drained with a deadline: when returning
   * clients stop being honoured and adapters close what remains. Otherwise null.
   */
  public @Nullable Instant drainDeadline() {
    return drainDeadline;
  }

  /** The position of this member in {@link Membership#members()} (sorted by id). */
  public int index() {
    return index;
  }

  /** Live connections right now (leases opened and not yet closed). */
  public int liveConnections() {
    return live.get();
  }

  /** Whether one more connection fits under the backend's cap (always true without a cap). */
  public boolean hasCapacity() {
    int cap = backend.maxConnectionsOrZero();
    return cap == 0 || live.get() < cap;
  }

  /** Whether a client this backend has never seen may be sent here: UP and under its cap. */
  public boolean acceptsNewClients() {
    return state == BackendState.UP && hasCapacity();
  }

  @Override
  public String toString() {
    return backend.id() + "[" + state + ", live=" + live.get() + "]";
  }
}

package dev.affinity.strategy;

import dev.affinity.backend.Member;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/** The rule for a returning client whose affinity (cookie, pinned token) names a member. */
final class Returning {
  static final String DOWN = "which is DOWN";
  static final String FULL = "which is at its connection cap";
  static final String DRAINED = "which is DRAINING past its deadline";

  private Returning() {}

  /**
   * Null when a returning client may go back to {@code m} at {@code nowMillis}: it is UP, or
   * DRAINING before its drain deadline (or without one), and under its cap. Otherwise why not.
   */
  static @Nullable String refusal(Member m, long nowMillis) {
    switch (m.state()) {
      case UP:
        break;
      case DRAINING:
        Instant deadline = m.drainDeadline();
        if (deadline != null && nowMillis >= deadline.toEpochMilli()) {
          return DRAINED;
        }
        break;
      case DOWN:
      default:
        return DOWN;
    }
    return m.hasCapacity() ? null : FULL;
  }
}

package dev.affinity.strategy;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.backend.Membership;
import dev.affinity.internal.Checks;
import java.time.InstantSource;
import org.jspecify.annotations.Nullable;

/** The one clock a strategy reads: its snapshot's, that is its group's. */
final class GroupClock {
  private GroupClock() {}

  /**
   * The clock of {@code membership}'s group. {@code own} is a clock a strategy was given through a
   * deprecated setter: accepted only when it is the group's clock itself.
   *
   * @throws AffinityConfigurationException naming both clocks when {@code own} is another clock
   */
  static InstantSource of(@Nullable InstantSource own, Membership membership, String setting) {
    InstantSource group = membership.clock();
    if (own != null && own != group) {
      throw new AffinityConfigurationException(
          Checks.message(
              setting,
              own,
              "the group's clock "
                  + group
                  + " or none: strategies read time from BackendGroup.create(clock)"));
    }
    return group;
  }
}

package dev.affinity.backend;

/**
 * Told about every change to a {@link BackendGroup}, after the new snapshot is published.
 *
 * <p>Called on the thread that made the change, in the order changes were made. Keep it fast; a
 * listener that throws is logged once and otherwise ignored.
 */
@FunctionalInterface
public interface MembershipListener {
  /**
   * The group changed from {@code previous} to {@code current}.
   *
   * @param previous the snapshot before the change
   * @param current the snapshot after the change, already visible to routing
   */
  void membershipChanged(Membership previous, Membership current);
}

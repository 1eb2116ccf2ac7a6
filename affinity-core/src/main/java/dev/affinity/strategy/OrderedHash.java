package dev.affinity.strategy;

import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import org.jspecify.annotations.Nullable;

/**
 * A hash strategy that {@link AffinityStrategy#boundedLoad bounded load} can wrap: each key hash
 * has an owner among the UP members and a deterministic order of all of them to spill along.
 */
interface OrderedHash extends AffinityStrategy {
  /** The key this strategy hashes. */
  RoutingKey key();

  /** The key's owner among UP members, ignoring caps and loads, or null if none is UP. */
  @Nullable Member owner(long keyHash, Membership membership);

  /** The UP members in the key's order, best first. Allocates: meant for the spill path. */
  Member[] order(long keyHash, Membership membership);
}

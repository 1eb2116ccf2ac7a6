package dev.affinity.backend;

import org.jspecify.annotations.Nullable;

/**
 * Who owns a connection's routing key under a membership: how selective re-homing recomputes the
 * owner when the membership changes. The router builds one from the deciding strategy and the
 * connection's key hash; most users never implement it.
 *
 * <p>Must be a pure function of the membership (no clock, no load), fast, and must not throw.
 */
@FunctionalInterface
public interface OwnerLookup {
  /** The id of the member that owns the key under {@code membership}, or null if none does. */
  @Nullable String ownerId(Membership membership);
}

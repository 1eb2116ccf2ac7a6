/**
 * Backends and their membership: {@link dev.affinity.backend.Backend} values, the thread-safe
 * {@link dev.affinity.backend.BackendGroup} and the immutable {@link
 * dev.affinity.backend.Membership} snapshots that routing reads without locks.
 *
 * <p>Their lifecycle (health checks, outlier detection, slow start, drain deadlines, re-homing,
 * maximum lifetimes) lives in {@code dev.affinity.lifecycle}.
 */
@NullMarked
package dev.affinity.backend;

import org.jspecify.annotations.NullMarked;

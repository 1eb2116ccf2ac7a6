/**
 * Backends and their membership: {@link dev.affinity.backend.Backend} values, the thread-safe
 * {@link dev.affinity.backend.BackendGroup} and the immutable {@link
 * dev.affinity.backend.Membership} snapshots that routing reads without locks.
 *
 * <p>And their lifecycle, each component running on its own threads: active health checks ({@link
 * dev.affinity.backend.HealthChecker}, {@link dev.affinity.backend.HealthProbe}), passive outlier
 * detection ({@link dev.affinity.backend.OutlierDetector}), {@link dev.affinity.backend.SlowStart},
 * and {@link dev.affinity.backend.ConnectionLifecycle} (drain deadlines, selective re-homing,
 * maximum lifetime) closing connections through the {@link dev.affinity.backend.ConnectionCloser}
 * adapters register with their leases.
 */
@NullMarked
package dev.affinity.backend;

import org.jspecify.annotations.NullMarked;

/**
 * What happens to backends and connections over time, each component running on its own scheduler:
 * active health checks ({@link dev.affinity.lifecycle.HealthChecker}, {@link
 * dev.affinity.lifecycle.HealthProbe}), passive outlier detection ({@link
 * dev.affinity.lifecycle.OutlierDetector}), {@link dev.affinity.lifecycle.SlowStart}, and {@link
 * dev.affinity.lifecycle.ConnectionLifecycle} (drain deadlines, selective re-homing, maximum
 * lifetime) closing connections through the {@link dev.affinity.backend.ConnectionCloser} adapters
 * register with their leases.
 */
@NullMarked
package dev.affinity.lifecycle;

import org.jspecify.annotations.NullMarked;

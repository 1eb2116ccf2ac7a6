/**
 * Observation hooks: {@link dev.affinity.metrics.RoutingListener} for routing decisions and
 * membership, {@link dev.affinity.metrics.TunnelListener} for the server adapters' handshakes and
 * tunnels.
 */
@NullMarked
package dev.affinity.metrics;

import org.jspecify.annotations.NullMarked;

/**
 * Micrometer binding for affinity: {@link dev.affinity.micrometer.AffinityMetrics} publishes a
 * router's decisions, live connections, failures, backend states and membership fingerprint.
 */
@NullMarked
package dev.affinity.micrometer;

import org.jspecify.annotations.NullMarked;

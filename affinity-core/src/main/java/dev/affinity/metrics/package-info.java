/** Observation hooks: {@link dev.affinity.metrics.RoutingListener}. */
@NullMarked
package dev.affinity.metrics;

import org.jspecify.annotations.NullMarked;

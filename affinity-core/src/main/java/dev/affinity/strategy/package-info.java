/**
 * Affinity strategies: the {@link dev.affinity.strategy.AffinityStrategy} SPI, its factories and
 * the {@link dev.affinity.strategy.RoutingKey} extractors that hash strategies route on.
 */
@NullMarked
package dev.affinity.strategy;

import org.jspecify.annotations.NullMarked;

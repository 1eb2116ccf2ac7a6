/**
 * A fleet of affinity proxies over Redis: shared operator state, fleet-wide live connection counts
 * and learned affinity, with fail-static behaviour when Redis is unreachable.
 */
@NullMarked
package dev.affinity.redis;

import org.jspecify.annotations.NullMarked;

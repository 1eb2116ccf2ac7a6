/**
 * JMH benchmarks of affinity's routing against peer consistent-hashing libraries, and the fairness
 * and disruption simulator. Never deployed; see {@code docs/benchmarks.md}.
 */
@NullMarked
package dev.affinity.jmh;

import org.jspecify.annotations.NullMarked;

/**
 * The pinned hash functions every hash strategy routes with: {@link
 * dev.affinity.hash.RendezvousHash} and the {@link dev.affinity.hash.Maglev} table population.
 * Their output is API: independent proxy instances agree on owners only if they compute exactly
 * this, so a change here is a breaking change, caught by golden-value tests.
 */
@NullMarked
package dev.affinity.hash;

import org.jspecify.annotations.NullMarked;

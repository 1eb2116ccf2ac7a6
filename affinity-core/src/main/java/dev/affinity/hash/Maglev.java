package dev.affinity.hash;

import java.util.Arrays;

/**
 * The pinned Maglev table population (Eisenbud et al., NSDI 2016), weighted. <b>Its output is
 * API</b>, like {@link RendezvousHash}'s: every proxy instance with the same membership must build
 * the same table. See {@code AffinityStrategy.maglev(RoutingKey, int)} for the definition.
 */
public final class Maglev {
  private Maglev() {}

  /**
   * The slot of a key hash (an unsigned 32-bit number) in a table of {@code size} slots: {@code
   * floor(keyHash × size / 2^32)}.
   */
  public static int slot(long keyHash, int size) {
    return (int) ((keyHash * size) >>> 32);
  }

  /**
   * Maglev's population: each backend walks its own permutation of the slots ({@code offset},
   * {@code offset + skip}, ... mod size) and claims the next empty slot when its turn comes. In
   * round {@code t} (from 1) backend {@code i} takes a turn while {@code placed_i × maxWeight < t ×
   * weight_i}, so with equal weights every backend takes one turn per round (the paper's algorithm)
   * and otherwise turns, hence slots, follow weights. Backends go in id order.
   *
   * @param idHashes the backends' {@linkplain RendezvousHash#idHash id hashes}, in id order
   * @param weights the backends' integer weights, each at least 1, in the same order
   * @param size the table size, a prime
   * @return slot to backend index; empty when there are no backends
   */
  public static int[] populate(long[] idHashes, int[] weights, int size) {
    int n = idHashes.length;
    if (n == 0) {
      return new int[0];
    }
    int[] slots = new int[size];
    Arrays.fill(slots, -1);
    long[] next = new long[n];
    long[] skip = new long[n];
    long[] placed = new long[n];
    long maxWeight = 0;
    for (int i = 0; i < n; i++) {
      // Two numbers per backend from the pinned primitives: fmix64 of its id hash, split.
      long h = RendezvousHash.fmix64(idHashes[i]);
      next[i] = Long.remainderUnsigned(h >>> 32, size);
      skip[i] = Long.remainderUnsigned(h & 0xffff_ffffL, size - 1) + 1;
      maxWeight = Math.max(maxWeight, weights[i]);
    }
    int filled = 0;
    for (long round = 1; filled < size; round++) {
      for (int i = 0; i < n && filled < size; i++) {
        if (placed[i] * maxWeight >= round * weights[i]) {
          continue;
        }
        int s = (int) next[i];
        while (slots[s] >= 0) {
          s = (int) ((s + skip[i]) % size);
        }
        slots[s] = i;
        next[i] = (s + skip[i]) % size;
        placed[i]++;
        filled++;
      }
    }
    return slots;
  }
}

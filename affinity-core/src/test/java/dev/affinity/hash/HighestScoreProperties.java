package dev.affinity.hash;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

/**
 * {@link RendezvousHash#highestScore}, the unweighted owner scan the source-IP strategy routes
 * with, against the definition: the first index whose {@link RendezvousHash#score} is the highest
 * as an unsigned number. The bound is exact equality, not a tolerance: the scan folds fmix64's
 * first step into its operands, which is the same arithmetic, so any difference would route a key
 * to another backend than every other instance of the fleet.
 */
class HighestScoreProperties {
  private static int reference(long keyHash, long[] idHashes) {
    int best = 0;
    for (int i = 1; i < idHashes.length; i++) {
      if (Long.compareUnsigned(
              RendezvousHash.score(keyHash, idHashes[i]),
              RendezvousHash.score(keyHash, idHashes[best]))
          > 0) {
        best = i;
      }
    }
    return best;
  }

  /** Random 32-bit key and id hashes, over the whole unsigned range. */
  @Property(tries = 2000)
  void highestScore_randomHashes_isTheFirstHighestScore(
      @ForAll @LongRange(min = 0, max = 0xffff_ffffL) long keyHash,
      @ForAll @Size(min = 1, max = 40)
          List<@LongRange(min = 0, max = 0xffff_ffffL) Long> idHashes) {
    long[] ids = idHashes.stream().mapToLong(Long::longValue).toArray();
    assertThat(RendezvousHash.highestScore(keyHash, ids)).isEqualTo(reference(keyHash, ids));
  }

  /**
   * Equal id hashes (two backend ids whose hashes collide) have equal scores: the first of them
   * wins, as in the definition. Ids drawn from a few values, so that most lists hold ties.
   */
  @Property(tries = 1000)
  void highestScore_equalIdHashes_firstOneWins(
      @ForAll @LongRange(min = 0, max = 0xffff_ffffL) long keyHash,
      @ForAll @Size(min = 1, max = 16) List<@IntRange(min = 0, max = 3) Integer> picks) {
    long[] values = {0, 1, 0x8000_0000L, 0xffff_ffffL};
    long[] ids = picks.stream().mapToLong(p -> values[p]).toArray();
    assertThat(RendezvousHash.highestScore(keyHash, ids)).isEqualTo(reference(keyHash, ids));
  }

  /** The real id hashes of sixteen backends and keys at the edges of the range. */
  @Property(tries = 200)
  void highestScore_backendIds_matchesTheOwnerOfTheReference(
      @ForAll @LongRange(min = 0, max = 0xffff_ffffL) long keyHash) {
    long[] ids = new long[16];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = RendezvousHash.idHash("backend-" + i);
    }
    for (long k : new long[] {keyHash, 0, 1, 0x7fff_ffffL, 0x8000_0000L, 0xffff_ffffL}) {
      assertThat(RendezvousHash.highestScore(k, ids)).isEqualTo(reference(k, ids));
    }
  }
}

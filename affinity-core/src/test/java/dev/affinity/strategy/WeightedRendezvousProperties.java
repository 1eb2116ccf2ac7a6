package dev.affinity.strategy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.hash.RendezvousHash;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * The weighted owner search skips the logarithm for backends whose upper bound {@code w / (1 - u)}
 * cannot beat the best so far. Bound checked: the owner is exactly the full scan's (the highest
 * {@code weight / -ln(u)}, ties to the earlier id), for every key; an off-by-one in the pruning or
 * a margin that rounding can defeat would pick another backend for some of the keys tried.
 */
class WeightedRendezvousProperties {
  private static int fullScan(RendezvousStrategy.Prepared p, long keyHash) {
    int best = 0;
    double bestScore = -1;
    for (int i = 0; i < p.idHashes.length; i++) {
      double s =
          RendezvousHash.weightedScore(RendezvousHash.score(keyHash, p.idHashes[i]), p.weights[i]);
      if (i == 0 || s > bestScore) {
        best = i;
        bestScore = s;
      }
    }
    return best;
  }

  @Property(tries = 40)
  void prunedOwner_equalsFullScan(
      @ForAll @Size(min = 2, max = 300) List<@IntRange(min = 1, max = 1000) Integer> weights,
      @ForAll long seed) {
    BackendGroup g = BackendGroup.create();
    for (int i = 0; i < weights.size(); i++) {
      g.add(Backend.of("b" + i, "10.0.0.1", 8080).withWeight(weights.get(i)));
    }
    RendezvousStrategy.Prepared p =
        new RendezvousStrategy("rendezvous", RoutingKey.header("X-Key")).prepare(g.snapshot());
    Random r = new Random(seed);
    for (int k = 0; k < 2000; k++) {
      long keyHash = r.nextInt() & 0xffff_ffffL;
      assertThat(p.best(keyHash)).isEqualTo(fullScan(p, keyHash));
    }
  }

  @Property(tries = 10)
  void prunedOwner_equalsReference_nearlyEqualWeights(@ForAll long seed) {
    // Weights 1000 and 1001 make many scores close, where a too-eager bound would go wrong.
    BackendGroup g = BackendGroup.create();
    for (int i = 0; i < 64; i++) {
      g.add(Backend.of("b" + i, "10.0.0.1", 8080).withWeight(1000 + i % 2));
    }
    RendezvousStrategy.Prepared p =
        new RendezvousStrategy("rendezvous", RoutingKey.header("X-Key")).prepare(g.snapshot());
    Random r = new Random(seed);
    for (int k = 0; k < 5000; k++) {
      long keyHash = r.nextInt() & 0xffff_ffffL;
      assertThat(p.best(keyHash)).isEqualTo(fullScan(p, keyHash));
    }
  }
}

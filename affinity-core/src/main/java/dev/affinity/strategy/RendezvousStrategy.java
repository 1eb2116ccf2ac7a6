package dev.affinity.strategy;

import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.hash.RendezvousHash;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/** Weighted rendezvous hashing over a {@link RoutingKey}; see {@link RendezvousHash}. */
final class RendezvousStrategy extends HashStrategy {
  private static final String OWNER = "owner of the key";
  private static final String SPILL = "the key's owner is at its cap; next in the key's order";

  private final String name;
  private final RoutingKey key;

  RendezvousStrategy(String name, RoutingKey key) {
    this.name = name;
    this.key = key;
  }

  @Override
  RoutingKey key() {
    return key;
  }

  @Override
  public String name() {
    return name;
  }

  /** The rendezvous arrays of {@code membership}; for tests. */
  Prepared prepare(Membership membership) {
    return Prepared.of(membership);
  }

  @Override
  RendezvousSelector build(Membership membership, Selectors.@Nullable Snapshot previous) {
    return new RendezvousSelector(Prepared.of(membership), key);
  }

  @Override
  public String toString() {
    return "AffinityStrategy."
        + (name.equals("source-ip") ? "sourceIp(" : "rendezvous(")
        + key
        + ")";
  }

  /** One snapshot's rendezvous arrays. */
  static final class RendezvousSelector extends HashSelector {
    final Prepared order;

    RendezvousSelector(Prepared order, RoutingKey key) {
      super(key, order.up);
      this.order = order;
    }

    @Override
    public Membership membership() {
      return order.membership;
    }

    @Override
    Member[] up() {
      return order.up;
    }

    @Override
    @Nullable Member owner(long keyHash) {
      return order.up.length == 0 ? null : order.up[order.best(keyHash)];
    }

    @Override
    Member[] order(long keyHash) {
      return order.ordered(keyHash);
    }

    @Override
    String ownerReason() {
      return OWNER;
    }

    @Override
    String spillReason() {
      return SPILL;
    }

    @Override
    public String toString() {
      return "rendezvous selector at version " + order.membership.version();
    }
  }

  static final class Prepared {
    final Membership membership;
    final Member[] up;
    final long[] idHashes;
    final double[] weights;
    final boolean uniform;

    private Prepared(Membership membership) {
      this.membership = membership;
      this.up = membership.upMembers();
      this.idHashes = new long[up.length];
      this.weights = new double[up.length];
      for (int i = 0; i < up.length; i++) {
        idHashes[i] = RendezvousHash.idHash(up[i].id());
        weights[i] = up[i].effectiveWeight();
      }
      this.uniform = membership.uniformWeights();
    }

    /**
     * The weights as integers for table strategies: the backends' own weights when no member is in
     * a slow-start ramp, otherwise the effective weights in thousandths.
     */
    int[] integerWeights() {
      int[] out = new int[weights.length];
      boolean integral = true;
      for (int i = 0; i < weights.length; i++) {
        out[i] = (int) weights[i];
        integral &= out[i] == weights[i];
      }
      if (!integral) {
        for (int i = 0; i < weights.length; i++) {
          out[i] = (int) Math.max(1, Math.round(weights[i] * 1000));
        }
      }
      return out;
    }

    static Prepared of(Membership membership) {
      return new Prepared(membership);
    }

    /** Index into {@link #up} of the key's owner; {@code up} must not be empty. */
    int best(long keyHash) {
      if (uniform) {
        return RendezvousHash.highestScore(keyHash, idHashes);
      }
      int best = 0;
      double bestScore =
          RendezvousHash.weightedScore(RendezvousHash.score(keyHash, idHashes[0]), weights[0]);
      for (int i = 1; i < idHashes.length; i++) {
        long score = RendezvousHash.score(keyHash, idHashes[i]);
        // The logarithm dominates the cost. Since -ln(u) >= 1 - u, w / (1 - u) bounds the score
        // from above: skip the logarithm when even the bound cannot win. The 1e-9 margin dwarfs
        // rounding, so the result is exactly the full scan's; about ln(n) logarithms remain.
        if (weights[i] / (1 - RendezvousHash.uniform(score)) < bestScore * (1 - 1e-9)) {
          continue;
        }
        double s = RendezvousHash.weightedScore(score, weights[i]);
        if (s > bestScore) {
          bestScore = s;
          best = i;
        }
      }
      return best;
    }

    /** The UP members in the key's rendezvous order, best first. */
    Member[] ordered(long keyHash) {
      int[] rank = rank(keyHash);
      Member[] out = new Member[rank.length];
      for (int i = 0; i < rank.length; i++) {
        out[i] = up[rank[i]];
      }
      return out;
    }

    /** Indices into {@link #up}, best first: the key's full rendezvous order. */
    int[] rank(long keyHash) {
      int n = up.length;
      if (uniform) {
        Integer[] order = new Integer[n];
        long[] scores = new long[n];
        for (int i = 0; i < n; i++) {
          scores[i] = RendezvousHash.score(keyHash, idHashes[i]);
          order[i] = i;
        }
        Arrays.sort(
            order,
            (a, b) -> {
              int c = Long.compareUnsigned(scores[b], scores[a]);
              return c != 0 ? c : Integer.compare(a, b);
            });
        return Arrays.stream(order).mapToInt(Integer::intValue).toArray();
      }
      Integer[] order = new Integer[n];
      double[] scores = new double[n];
      for (int i = 0; i < n; i++) {
        scores[i] =
            RendezvousHash.weightedScore(RendezvousHash.score(keyHash, idHashes[i]), weights[i]);
        order[i] = i;
      }
      Arrays.sort(
          order,
          (a, b) -> {
            int c = Double.compare(scores[b], scores[a]);
            return c != 0 ? c : Integer.compare(a, b);
          });
      return Arrays.stream(order).mapToInt(Integer::intValue).toArray();
    }
  }
}

package dev.affinity.strategy;

import dev.affinity.Outcome;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.hash.RendezvousHash;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Weighted rendezvous hashing over a {@link RoutingKey}; see {@link RendezvousHash}. */
final class RendezvousStrategy implements OrderedHash {
  private static final Selection KEY_ABSENT = Selection.abstain("no key in the request");
  private static final Selection NO_UP = Selection.abstain("no backend is UP");
  private static final Selection ALL_FULL = Selection.abstain("every UP backend is at its cap");
  private static final String OWNER = "owner of the key";
  private static final String SPILL = "the key's owner is at its cap; next in the key's order";

  private final String name;
  private final RoutingKey key;
  private volatile Prepared prepared = Prepared.of(Membership.empty());

  RendezvousStrategy(String name, RoutingKey key) {
    this.name = name;
    this.key = key;
  }

  @Override
  public RoutingKey key() {
    return key;
  }

  @Override
  public @Nullable Member owner(long keyHash, Membership membership) {
    return ownerOf(keyHash, membership);
  }

  @Override
  public Member[] order(long keyHash, Membership membership) {
    Prepared p = prepare(membership);
    int[] rank = p.rank(keyHash);
    Member[] out = new Member[rank.length];
    for (int i = 0; i < rank.length; i++) {
      out[i] = p.up[rank[i]];
    }
    return out;
  }

  @Override
  public RoutingKey routingKey() {
    return key;
  }

  @Override
  public @Nullable Member ownerOf(long keyHash, Membership membership) {
    Prepared p = prepare(membership);
    return p.up.length == 0 ? null : p.up[p.best(keyHash)];
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Selection select(RoutingRequest request, Membership membership) {
    long k = key.hash(request);
    if (k == RoutingKey.ABSENT) {
      return KEY_ABSENT;
    }
    return selectHash(k, membership);
  }

  /** Chooses for a key hash already computed (JWT affinity hashes verified claims). */
  Selection selectHash(long k, Membership membership) {
    Prepared p = prepare(membership);
    if (p.up.length == 0) {
      return NO_UP;
    }
    Member owner = p.up[p.best(k)];
    if (owner.hasCapacity()) {
      return Selection.chosen(owner, Outcome.AFFINITY_HIT, OWNER, key);
    }
    for (int i : p.rank(k)) {
      if (p.up[i].hasCapacity()) {
        return Selection.chosen(p.up[i], Outcome.SPILL_OVER, SPILL, key);
      }
    }
    return ALL_FULL;
  }

  @Override
  public List<Member> failoverCandidates(
      RoutingRequest request, Membership membership, Member chosen, int limit) {
    long k = key.hash(request);
    if (k == RoutingKey.ABSENT) {
      return Candidates.leastLoaded(membership, chosen, limit);
    }
    Prepared p = prepare(membership);
    List<Member> out = new ArrayList<>();
    for (int i : p.rank(k)) {
      Member m = p.up[i];
      if (out.size() < limit && !m.id().equals(chosen.id()) && m.hasCapacity()) {
        out.add(m);
      }
    }
    return out;
  }

  /** The per-snapshot arrays, computed once per membership change and then read lock-free. */
  Prepared prepare(Membership membership) {
    Prepared p = prepared;
    if (p.membership != membership) {
      p = Prepared.of(membership);
      prepared = p;
    }
    return p;
  }

  @Override
  public String toString() {
    return "AffinityStrategy."
        + (name.equals("source-ip") ? "sourceIp(" : "rendezvous(")
        + key
        + ")";
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
      int best = 0;
      if (uniform) {
        // Unsigned comparison by flipping the sign bit once per score.
        long bestScore = RendezvousHash.score(keyHash, idHashes[0]) ^ Long.MIN_VALUE;
        for (int i = 1; i < idHashes.length; i++) {
          long s = RendezvousHash.score(keyHash, idHashes[i]) ^ Long.MIN_VALUE;
          if (s > bestScore) {
            bestScore = s;
            best = i;
          }
        }
      } else {
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
      }
      return best;
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

package dev.affinity.strategy;

import com.google.common.math.IntMath;
import dev.affinity.Outcome;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * Smooth weighted round robin. The interleaved order (NGINX's algorithm) is computed once per
 * membership snapshot into a table; selection is one atomic increment and an array read.
 */
final class RoundRobinStrategy extends SnapshotStrategy {
  /** Weights are scaled down so that one cycle has at most this many slots. */
  static final int MAX_TABLE = 4096;

  /** Effective weights are kept to this many parts per unit of weight; the gcd removes it. */
  private static final int SLOW_START_SCALE = 1000;

  private static final Selection NO_UP = Selection.abstain("no backend is UP");
  private static final Selection ALL_FULL = Selection.abstain("every UP backend is at its cap");
  private static final String REASON = "round robin";

  private final AtomicLong next = new AtomicLong();

  @Override
  public String name() {
    return "round-robin";
  }

  @Override
  Table build(Membership membership, Selectors.@Nullable Snapshot previous) {
    return new Table(membership, this);
  }

  Selection select(Table t) {
    if (t.slots.length == 0) {
      return NO_UP;
    }
    long start = next.getAndIncrement();
    for (int i = 0; i < t.slots.length; i++) {
      Member m = t.up[t.slots[(int) Math.floorMod(start + i, (long) t.slots.length)]];
      if (m.hasCapacity()) {
        return Selection.chosen(m, Outcome.FIRST_ASSIGNMENT, REASON);
      }
    }
    return ALL_FULL;
  }

  @Override
  public String toString() {
    return "AffinityStrategy.roundRobin()";
  }

  /** One snapshot's interleaved order. */
  static final class Table implements Selectors.Snapshot {
    final Membership membership;
    final Member[] up;
    final int[] slots;
    private final RoundRobinStrategy strategy;

    Table(Membership membership, RoundRobinStrategy strategy) {
      this.membership = membership;
      this.strategy = strategy;
      this.up = membership.upMembers();
      int n = up.length;
      int[] weights = new int[n];
      int gcd = 0;
      for (int i = 0; i < n; i++) {
        // Slow start scales weights by a fraction; keep three decimals of it in integer slots.
        weights[i] =
            up[i].effectiveWeight() == up[i].backend().weight()
                ? up[i].backend().weight() * SLOW_START_SCALE
                : (int) Math.max(1, Math.round(up[i].effectiveWeight() * SLOW_START_SCALE));
        gcd = IntMath.gcd(gcd, weights[i]);
      }
      if (n == 0) {
        slots = new int[0];
        return;
      }
      long total = 0;
      for (int i = 0; i < n; i++) {
        weights[i] /= gcd;
        total += weights[i];
      }
      if (total > MAX_TABLE) {
        // Keep proportions approximately; every backend keeps at least one slot.
        double scale = (double) Math.max(MAX_TABLE, n) / total;
        total = 0;
        for (int i = 0; i < n; i++) {
          weights[i] = Math.max(1, (int) Math.round(weights[i] * scale));
          total += weights[i];
        }
      }
      slots = new int[(int) total];
      int[] current = new int[n];
      for (int s = 0; s < slots.length; s++) {
        int best = 0;
        for (int i = 0; i < n; i++) {
          current[i] += weights[i];
          if (current[i] > current[best]) {
            best = i;
          }
        }
        current[best] -= (int) total;
        slots[s] = best;
      }
    }

    @Override
    public Membership membership() {
      return membership;
    }

    @Override
    public Selection select(RoutingRequest request) {
      return strategy.select(this);
    }
  }
}

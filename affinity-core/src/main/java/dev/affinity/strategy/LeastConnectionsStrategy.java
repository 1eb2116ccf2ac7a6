package dev.affinity.strategy;

import dev.affinity.Outcome;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/** Weighted least connections; ties rotate so that equal backends share new clients. */
final class LeastConnectionsStrategy extends SnapshotStrategy {
  static final Selection NO_UP = Selection.abstain("no backend is UP");
  static final Selection ALL_FULL = Selection.abstain("every UP backend is at its cap");
  private static final String REASON = "fewest live connections per unit of weight";

  private final AtomicInteger rotation = new AtomicInteger();

  @Override
  public String name() {
    return "least-connections";
  }

  /** Nothing to build: the snapshot's UP members are all it reads. */
  @Override
  Selectors.Snapshot build(Membership membership, Selectors.@Nullable Snapshot previous) {
    return new Selectors.Snapshot() {
      @Override
      public Membership membership() {
        return membership;
      }

      @Override
      public Selection select(RoutingRequest request) {
        return choose(membership.upMembers());
      }
    };
  }

  Selection choose(Member[] up) {
    int n = up.length;
    if (n == 0) {
      return NO_UP;
    }
    int start = Math.floorMod(rotation.getAndIncrement(), n);
    Member best = null;
    for (int j = 0; j < n; j++) {
      Member m = up[(start + j) % n];
      if (m.hasCapacity() && (best == null || lighter(m, best))) {
        best = m;
      }
    }
    return best == null ? ALL_FULL : Selection.chosen(best, Outcome.FIRST_ASSIGNMENT, REASON);
  }

  /** Whether {@code a} has strictly fewer live connections per unit of weight than {@code b}. */
  static boolean lighter(Member a, Member b) {
    return a.fleetConnections() * b.effectiveWeight() < b.fleetConnections() * a.effectiveWeight();
  }

  @Override
  public String toString() {
    return "AffinityStrategy.leastConnections()";
  }
}

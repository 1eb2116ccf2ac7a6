package dev.affinity.strategy;

import dev.affinity.Outcome;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/** The less loaded of two distinct random UP backends, per unit of weight. */
final class PowerOfTwoChoicesStrategy extends SnapshotStrategy {
  private static final Selection NO_UP = Selection.abstain("no backend is UP");
  private static final Selection ALL_FULL = Selection.abstain("every UP backend is at its cap");
  private static final String REASON = "less loaded of two random backends";

  private final LeastConnectionsStrategy whenFull = new LeastConnectionsStrategy();

  @Override
  public String name() {
    return "p2c";
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

  private Selection choose(Member[] up) {
    int n = up.length;
    if (n == 0) {
      return NO_UP;
    }
    if (n == 1) {
      return up[0].hasCapacity()
          ? Selection.chosen(up[0], Outcome.FIRST_ASSIGNMENT, REASON)
          : ALL_FULL;
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    int i = random.nextInt(n);
    int j = random.nextInt(n - 1);
    if (j >= i) {
      j++;
    }
    Member a = up[i];
    Member b = up[j];
    boolean aOk = a.hasCapacity();
    boolean bOk = b.hasCapacity();
    if (aOk && bOk) {
      return Selection.chosen(
          LeastConnectionsStrategy.lighter(b, a) ? b : a, Outcome.FIRST_ASSIGNMENT, REASON);
    }
    if (aOk || bOk) {
      return Selection.chosen(aOk ? a : b, Outcome.FIRST_ASSIGNMENT, REASON);
    }
    Selection s = whenFull.choose(up);
    return s.kind() == Selection.Kind.CHOSEN ? s : ALL_FULL;
  }

  @Override
  public String toString() {
    return "AffinityStrategy.powerOfTwoChoices()";
  }
}

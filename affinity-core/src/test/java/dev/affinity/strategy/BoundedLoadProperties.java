package dev.affinity.strategy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Outcome;
import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;

/**
 * Stateful property of consistent hashing with bounded loads: under random sequences of opens,
 * closes, additions, removals, DOWN and UP marks, every connection the strategy places leaves its
 * backend with at most {@code ceil(c * (m + 1) * w / W)} live connections, where m is the live
 * total over UP backends just before the placement and W their total weight. That is the bound of
 * Mirrokni et al. that the strategy promises at each insertion; it cannot promise more, because a
 * close elsewhere lowers the average without moving anyone.
 */
class BoundedLoadProperties {
  @Property(tries = 200)
  void placement_neverExceedsTheBound(
      @ForAll long seed,
      @ForAll @DoubleRange(min = 1.0, max = 2.0) double factor,
      @ForAll @IntRange(min = 1, max = 3) int maxWeight) {
    Random r = new Random(seed);
    BackendGroup g = BackendGroup.create();
    int nextId = 0;
    for (int i = 0; i < 4; i++) {
      g.add(Backend.of("b" + nextId++, "10.0.0.1", 80).withWeight(1 + r.nextInt(maxWeight)));
    }
    Router router =
        Router.builder(g)
            .strategy(AffinityStrategy.boundedLoad(AffinityStrategy.rendezvous(hotKeys()), factor))
            .build();
    List<ConnectionLease> open = new ArrayList<>();
    for (int step = 0; step < 400; step++) {
      int op = r.nextInt(100);
      if (op < 60) {
        Membership before = g.snapshot();
        long live = 0;
        long weight = 0;
        for (Member m : before.upMembers()) {
          live += m.liveConnections();
          weight += m.backend().weight();
        }
        // Few distinct keys: hot keys are exactly what bounded load exists for.
        RoutingRequest request =
            RoutingRequest.builder().header("X-Key", "k" + r.nextInt(5)).build();
        RoutingDecision d = router.select(request);
        if (before.upMembers().length == 0) {
          assertThat(d.hasBackend()).isFalse();
          continue;
        }
        assertThat(d.strategy()).isEqualTo("bounded-load(rendezvous)");
        assertThat(d.outcome()).isIn(Outcome.AFFINITY_HIT, Outcome.SPILL_OVER);
        open.add(d.openLease(d.backend(), reason -> {}));
        long bound = (long) Math.ceil(factor * (live + 1) * d.backend().weight() / weight);
        assertThat((long) g.liveConnections(d.backend().id()))
            .as("live on %s after placement, factor %s", d.backend().id(), factor)
            .isLessThanOrEqualTo(bound);
      } else if (op < 85 && !open.isEmpty()) {
        open.remove(r.nextInt(open.size())).close();
      } else if (op < 90) {
        g.add(Backend.of("b" + nextId++, "10.0.0.1", 80).withWeight(1 + r.nextInt(maxWeight)));
      } else if (op < 94 && g.snapshot().size() > 1) {
        List<Member> ms = g.snapshot().members();
        g.remove(ms.get(r.nextInt(ms.size())).id());
      } else if (op < 97 && g.snapshot().size() > 0) {
        List<Member> ms = g.snapshot().members();
        g.markDown(ms.get(r.nextInt(ms.size())).id());
      } else if (g.snapshot().size() > 0) {
        List<Member> ms = g.snapshot().members();
        g.markUp(ms.get(r.nextInt(ms.size())).id());
      }
    }
    for (ConnectionLease l : open) {
      l.close();
    }
    for (Member m : g.snapshot().members()) {
      assertThat(m.liveConnections()).isZero();
    }
  }

  private static RoutingKey hotKeys() {
    return RoutingKey.header("X-Key");
  }
}

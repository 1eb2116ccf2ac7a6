package dev.affinity.backend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.metrics.RoutingListener;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.RoutingKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * The agreement check: two proxy instances (two groups, two routers) fed the same membership
 * changes, whatever order their initial backends were added in, report the same fingerprint after
 * every change and make the same decision for every key; and the fingerprint in listener events is
 * the router's.
 *
 * <p>The bound is exact equality: hash decisions are pure functions of (request, membership), so
 * any difference at all is a bug that would split clients across instances.
 */
class AgreementProperties {
  private static final List<String> IDS = List.of("a", "b", "c", "d", "e", "f");

  record Op(int kind, String id, int weight) {
    void apply(BackendGroup g) {
      Member m = g.snapshot().member(id);
      if (m == null) {
        if (kind == 0) {
          g.add(Backend.of(id, "10.0.0." + (1 + IDS.indexOf(id)), 8080).withWeight(weight));
        }
        return;
      }
      switch (kind) {
        case 1 -> g.remove(id);
        case 2 -> g.markDown(id);
        case 3 -> g.markUp(id);
        case 4 -> g.drain(id);
        case 5 -> g.setHealthFlag(id, Member.UNHEALTHY, true);
        case 6 -> g.setHealthFlag(id, Member.UNHEALTHY, false);
        case 7 -> g.update(m.backend().withWeight(weight));
        default -> {}
      }
    }
  }

  @Provide
  Arbitrary<Op> ops() {
    return Combinators.combine(
            Arbitraries.integers().between(0, 7),
            Arbitraries.of(IDS),
            Arbitraries.integers().between(1, 4))
        .as(Op::new);
  }

  private static final class LastFingerprint implements RoutingListener {
    volatile String fingerprint;

    @Override
    public void membershipChanged(Membership membership) {
      fingerprint = membership.fingerprint();
    }
  }

  /** Same changes, same fingerprint and same decisions, after every change. */
  @Property(tries = 100)
  void twoRoutersFedTheSameChanges_agree(
      @ForAll @Size(min = 1, max = 6) List<@From("ops") Op> initial,
      @ForAll @Size(min = 1, max = 15) List<@From("ops") Op> changes,
      @ForAll long seed) {
    BackendGroup g1 = BackendGroup.create();
    BackendGroup g2 = BackendGroup.create();
    LastFingerprint l1 = new LastFingerprint();
    LastFingerprint l2 = new LastFingerprint();
    Router r1 = router(g1, l1);
    Router r2 = router(g2, l2);
    List<String> order = new ArrayList<>(IDS);
    for (String id : order) {
      g1.add(Backend.of(id, "10.0.0." + (1 + IDS.indexOf(id)), 8080));
    }
    Collections.shuffle(order, new Random(seed));
    for (String id : order) {
      g2.add(Backend.of(id, "10.0.0." + (1 + IDS.indexOf(id)), 8080));
    }
    for (Op op : initial) {
      op.apply(g1);
      op.apply(g2);
    }
    for (Op op : changes) {
      op.apply(g1);
      op.apply(g2);
      assertThat(r1.membershipFingerprint())
          .as("after %s", op)
          .isEqualTo(r2.membershipFingerprint());
      assertThat(l1.fingerprint).isEqualTo(r1.membershipFingerprint());
      assertThat(l2.fingerprint).isEqualTo(r2.membershipFingerprint());
      Random keys = new Random(seed ^ op.hashCode());
      for (int i = 0; i < 100; i++) {
        RoutingRequest request =
            RoutingRequest.builder()
                .header("X-Key", "user-" + keys.nextInt(1_000_000))
                .remoteAddress("192.0.2." + keys.nextInt(256), 40000)
                .build();
        RoutingDecision d1 = r1.select(request);
        RoutingDecision d2 = r2.select(request);
        assertThat(d2.outcome()).isEqualTo(d1.outcome());
        if (d1.hasBackend()) {
          assertThat(d2.backend().id()).isEqualTo(d1.backend().id());
          assertThat(d2.failoverCandidates()).isEqualTo(d1.failoverCandidates());
        }
      }
    }
  }

  private static Router router(BackendGroup g, RoutingListener listener) {
    return Router.builder(g)
        .strategy(AffinityStrategy.rendezvous(RoutingKey.header("X-Key")))
        .fallback(AffinityStrategy.sourceIp())
        .listener(listener)
        .build();
  }
}

package dev.affinity.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.Outcome;
import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.metrics.RoutingStats;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.RoutingKey;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AffinityMetricsTest {
  private final BackendGroup group =
      BackendGroup.of(
          Backend.of("a", "127.0.0.1", 9001),
          Backend.of("b", "127.0.0.1", 9002),
          Backend.of("c", "127.0.0.1", 9003));
  private final RoutingStats stats = RoutingStats.create();
  private final Router router =
      Router.builder(group)
          .strategy(AffinityStrategy.rendezvous(RoutingKey.header("X-Key")))
          .listener(stats)
          .build();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private double counter(String name, String... tags) {
    return registry.get(name).tags(tags).functionCounter().count();
  }

  private double gauge(String name, String... tags) {
    return registry.get(name).tags(tags).gauge().value();
  }

  @Test
  void of_router_readsTheStatsRegisteredWithTheRouter_andWithoutStatsIsRejected() {
    AffinityMetrics.of(router, Tags.of("proxy", "p1")).bindTo(registry);
    router.select(RoutingRequest.builder().header("X-Key", "u1").build());
    router.select(RoutingRequest.builder().header("X-Key", "u2").build());
    assertThat(counter("affinity.decisions", "outcome", "affinity_hit", "proxy", "p1"))
        .isEqualTo(2);

    try (Router bare = Router.builder(group).build()) {
      assertThatThrownBy(() -> AffinityMetrics.of(bare))
          .isInstanceOf(AffinityConfigurationException.class)
          .hasMessageStartingWith("router: " + bare)
          .hasMessageContaining("a router with a RoutingStats listener");
    }
  }

  @Test
  void reportsTheCountsTheRouterProduced() {
    AffinityMetrics.of(router, stats, Tags.of("proxy", "p1")).bindTo(registry);
    List<ConnectionLease> leases = new ArrayList<>();
    int hits = 0;
    int first = 0;
    for (int i = 0; i < 30; i++) {
      RoutingDecision d = router.select(RoutingRequest.builder().header("X-Key", "u" + i).build());
      assertThat(d.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
      hits++;
      leases.add(d.openLease(d.backend(), reason -> {}));
    }
    for (int i = 0; i < 7; i++) {
      router.select(RoutingRequest.builder().build()); // no key: the fallback's first pick
      first++;
    }
    Backend a = group.snapshot().member("a").backend();
    router.reportConnectFailure(a, new ConnectException());
    router.reportConnectFailure(a, new ConnectException());
    group.markDown("a");
    group.markDown("b");
    group.markDown("c");
    router.select(RoutingRequest.builder().build());

    assertThat(counter("affinity.decisions", "outcome", "affinity_hit", "proxy", "p1"))
        .isEqualTo(hits);
    assertThat(counter("affinity.decisions", "outcome", "first_assignment")).isEqualTo(first);
    assertThat(counter("affinity.decisions", "outcome", "no_backend")).isEqualTo(1);
    assertThat(counter("affinity.decisions", "outcome", "failover")).isZero();
    assertThat(counter("affinity.connect.failures", "backend", "a")).isEqualTo(2);
    assertThat(counter("affinity.connect.failures", "backend", "b")).isZero();
    assertThat(counter("affinity.backend.transitions", "from", "up", "to", "down")).isEqualTo(3);
    assertThat(gauge("affinity.backends", "state", "down")).isEqualTo(3);
    assertThat(gauge("affinity.backends", "state", "up")).isZero();

    double live = 0;
    double opened = 0;
    for (String id : List.of("a", "b", "c")) {
      assertThat(gauge("affinity.connections.live", "backend", id))
          .isEqualTo(group.liveConnections(id));
      live += gauge("affinity.connections.live", "backend", id);
      opened += counter("affinity.connections.opened", "backend", id);
    }
    assertThat(live).isEqualTo(30);
    assertThat(opened).isEqualTo(30);
    leases.forEach(ConnectionLease::close);
    assertThat(gauge("affinity.connections.live", "backend", "a")).isZero();
    assertThat(counter("affinity.connections.opened", "backend", "a")).isPositive();
  }

  @Test
  void perBackendMetersAndFingerprintFollowTheMembership() {
    AffinityMetrics metrics = AffinityMetrics.of(router, stats);
    metrics.bindTo(registry);
    assertThat(registry.get("affinity.membership.fingerprint").gauges())
        .singleElement()
        .satisfies(
            g ->
                assertThat(g.getId().getTag("fingerprint"))
                    .isEqualTo(router.membershipFingerprint()));

    group.add(Backend.of("d", "127.0.0.1", 9004));
    assertThat(gauge("affinity.connections.live", "backend", "d")).isZero();
    group.remove("a");
    assertThat(registry.find("affinity.connections.live").tag("backend", "a").gauge()).isNull();
    assertThat(registry.get("affinity.membership.fingerprint").gauges())
        .singleElement()
        .satisfies(
            g ->
                assertThat(g.getId().getTag("fingerprint"))
                    .isEqualTo(router.membershipFingerprint()));
    assertThat(gauge("affinity.membership.version")).isEqualTo(group.snapshot().version());

    metrics.close();
    group.add(Backend.of("e", "127.0.0.1", 9005));
    assertThat(registry.find("affinity.connections.live").tag("backend", "e").gauge()).isNull();
  }

  @Test
  void meterNamesFollowMicrometerConventions() {
    AffinityMetrics.of(router, stats).bindTo(registry);
    assertThat(registry.getMeters())
        .allSatisfy(m -> assertThat(m.getId().getName()).matches("affinity(\\.[a-z]+)+"));
  }
}

package dev.affinity.strategy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import java.net.InetSocketAddress;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Other instances' reported counts weigh in caps and load-aware choices; local counts stay exact.
 */
class FleetConnectionsTest {
  private static final Backend WS1 = Backend.of("ws-1", "10.0.0.1", 80);
  private static final Backend WS2 = Backend.of("ws-2", "10.0.0.2", 80);

  private static RoutingRequest request() {
    return RoutingRequest.builder()
        .remoteAddress(new InetSocketAddress("192.0.2.1", 40000))
        .path("/ws")
        .build();
  }

  @Test
  void otherInstancesConnections_countTowardTheCap_butNotTowardLocalCounts() {
    Backend capped = WS1.withMaxConnections(10);
    BackendGroup group = BackendGroup.of(capped);
    group.openConnection(capped);

    group.otherInstancesConnections(Map.of("ws-1", 9, "gone", 50));

    assertThat(group.snapshot().member("ws-1").fleetConnections()).isEqualTo(10);
    assertThat(group.snapshot().member("ws-1").liveConnections()).isEqualTo(1);
    assertThat(group.liveConnections()).containsExactly(Map.entry("ws-1", 1));
    assertThat(group.snapshot().member("ws-1").hasCapacity()).isFalse();
    RoutingDecision d =
        Router.builder(group)
            .fallback(AffinityStrategy.leastConnections())
            .build()
            .select(request());
    assertThat(d.hasBackend()).isFalse();

    group.otherInstancesConnections(Map.of()); // the others' reports expired
    assertThat(group.snapshot().member("ws-1").hasCapacity()).isTrue();
  }

  @Test
  void leastConnections_weighsTheWholeFleet() {
    BackendGroup group = BackendGroup.of(WS1, WS2);
    group.openConnection(WS2); // locally ws-2 is busier
    group.otherInstancesConnections(Map.of("ws-1", 5));

    Router router = Router.builder(group).fallback(AffinityStrategy.leastConnections()).build();

    assertThat(router.select(request()).backend().id()).isEqualTo("ws-2");
  }

  @Test
  void otherInstancesConnections_surviveAnUpdateOfTheBackend() {
    BackendGroup group = BackendGroup.of(WS1);
    group.otherInstancesConnections(Map.of("ws-1", 4));

    group.update(WS1.withWeight(2));

    assertThat(group.snapshot().member("ws-1").fleetConnections()).isEqualTo(4);
  }
}

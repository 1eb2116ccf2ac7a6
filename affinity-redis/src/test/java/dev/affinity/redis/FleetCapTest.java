package dev.affinity.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.strategy.AffinityStrategy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A connection cap across three instances sharing counts through a real Redis, with heartbeats
 * driven by the test: the backend never holds more than its cap plus the stated overshoot.
 */
class FleetCapTest {
  private static final int CAP = 100;
  private static final int INSTANCES = 3;
  private static final int CLIENTS = 400;

  /** New clients each instance accepts between two heartbeats. */
  private static final int PER_HEARTBEAT = 10;

  private RedisServer redis;
  private final List<RedisFleet> fleets = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    redis = RedisServer.start();
  }

  @AfterEach
  void stop() throws Exception {
    fleets.forEach(RedisFleet::close);
    redis.close();
  }

  /**
   * 400 clients arrive over 3 instances, {@value #PER_HEARTBEAT} per instance per heartbeat; about
   * half hash to the capped backend, so its cap is reached and the rest spill over. The bound
   * checked is the one {@link RedisFleet} documents: cap + (instances − 1) × (what one instance
   * accepts in two heartbeats), since a report is up to one heartbeat old when read and is used for
   * one more.
   */
  @Test
  void maxConnections_400ClientsOver3Instances_staysWithinCapPlusStatedOvershoot() {
    Backend capped = Backend.of("ws-1", "127.0.0.1", 9001).withMaxConnections(CAP);
    Backend spill = Backend.of("ws-2", "127.0.0.1", 9002);
    List<BackendGroup> groups = new ArrayList<>();
    List<Router> routers = new ArrayList<>();
    for (int i = 0; i < INSTANCES; i++) {
      BackendGroup g = BackendGroup.of(capped, spill);
      groups.add(g);
      routers.add(Router.builder(g).fallback(AffinityStrategy.sourceIp()).build());
      RedisFleet f =
          RedisFleet.builder(g)
              .redis(redis.uri())
              .instanceId("proxy-" + i)
              .heartbeat(Duration.ZERO)
              .countTtl(Duration.ofMinutes(1))
              .build();
      fleets.add(f);
      f.start();
    }

    int client = 0;
    int placed = 0;
    while (client < CLIENTS) {
      for (int i = 0; i < INSTANCES; i++) {
        for (int n = 0; n < PER_HEARTBEAT && client < CLIENTS; n++, client++) {
          RoutingRequest r =
              RoutingRequest.builder()
                  .remoteAddress("10.0." + (client / 250) + "." + (client % 250), 40000)
                  .build();
          RoutingDecision d = routers.get(i).select(r);
          if (d.hasBackend()) {
            d.openLease(d.backend(), reason -> {});
            placed++;
          }
        }
      }
      fleets.forEach(RedisFleet::tick);
    }

    int onCapped = groups.stream().mapToInt(g -> g.liveConnections("ws-1")).sum();
    int bound = CAP + (INSTANCES - 1) * 2 * PER_HEARTBEAT;
    assertThat(placed).isEqualTo(CLIENTS);
    assertThat(onCapped).isGreaterThanOrEqualTo(CAP).isLessThanOrEqualTo(bound);
    // Without the fleet's counts nothing would stop ws-1 short of its ~200 preferring clients.
  }
}

package dev.affinity.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.CloseReason;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.testkit.ManualScheduler;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * One scheduler, given to every lifecycle component: health checks, outlier ejection, the slow
 * start ramp and connection lifetimes all run on it (here a manual one the test drives), and
 * closing the components leaves it running for its owner.
 */
class SharedSchedulerTest {
  private final ManualScheduler scheduler =
      new ManualScheduler(Instant.parse("2026-01-01T00:00:00Z"));
  private final BackendGroup group = BackendGroup.create(scheduler.clock());

  private Backend backend(String id) {
    return group.snapshot().member(id).backend();
  }

  @Test
  void everyComponent_runsOnTheOneSchedulerGiven_andClosingThemLeavesItRunning() {
    for (String id : List.of("a", "b", "c", "d")) {
      group.add(Backend.of(id, "127.0.0.1", 9000 + id.charAt(0)));
    }
    HealthChecker health =
        HealthChecker.builder(group)
            .probe(
                (backend, timeout) -> {
                  if (backend.id().equals("d")) {
                    throw new IOException("refused");
                  }
                })
            .interval(Duration.ofSeconds(1))
            .jitter(Duration.ZERO)
            .timeout(Duration.ofSeconds(1))
            .fall(2)
            .rise(1)
            .scheduler(scheduler)
            .probeExecutor(Runnable::run)
            .random(new Random(1))
            .build()
            .start();
    OutlierDetector outliers =
        OutlierDetector.builder(group).consecutiveFailures(1).scheduler(scheduler).build();
    SlowStart slowStart =
        SlowStart.builder(group)
            .window(Duration.ofSeconds(100))
            .step(Duration.ofSeconds(10))
            .scheduler(scheduler)
            .build()
            .start();
    ConnectionLifecycle lifecycle =
        ConnectionLifecycle.builder(group)
            .maxLifetime(Duration.ofMinutes(1), Duration.ZERO)
            .scheduler(scheduler)
            .build()
            .start();
    Router router = Router.builder(group).outlierDetection(outliers).build();

    RoutingDecision d = router.select(RoutingRequest.builder().build());
    List<CloseReason> closed = new ArrayList<>();
    ConnectionLease lease = d.openLease(d.backend(), closed::add);
    router.reportConnectFailure(backend("b"), new IOException("refused"));
    group.add(Backend.of("e", "127.0.0.1", 9100));
    assertThat(group.snapshot().member("e").effectiveWeight()).isEqualTo(0.1);

    scheduler.advance(Duration.ofSeconds(20)); // two ramp steps: e at 20% of its weight
    assertThat(group.snapshot().member("d").state())
        .as("health checks")
        .isEqualTo(BackendState.DOWN);
    assertThat(group.snapshot().member("b").state())
        .as("outlier ejection")
        .isEqualTo(BackendState.DOWN);
    assertThat(group.snapshot().member("e").effectiveWeight())
        .as("slow start")
        .isCloseTo(0.2, within(1e-9));
    assertThat(closed).as("not yet at the max lifetime").isEmpty();

    scheduler.advance(Duration.ofMinutes(1));
    assertThat(closed).as("connection lifecycle").hasSize(1);
    lease.close();

    router.close();
    lifecycle.close();
    slowStart.close();
    outliers.close();
    health.close();
    assertThat(scheduler.isShutdown()).as("a given scheduler belongs to its owner").isFalse();
  }
}

package dev.affinity.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.testkit.ManualScheduler;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OutlierDetectorTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private final ManualScheduler scheduler = new ManualScheduler(T0);
  private final BackendGroup group = BackendGroup.create(scheduler.clock());
  private OutlierDetector detector;
  private Router router;

  @AfterEach
  void tearDown() {
    if (detector != null) {
      detector.close();
    }
  }

  private void setUp(int backends, int maxEjectedPercent) {
    for (int i = 0; i < backends; i++) {
      group.add(Backend.of("b" + i, "127.0.0.1", 1000 + i));
    }
    detector =
        OutlierDetector.builder(group)
            .consecutiveFailures(3)
            .baseEjection(Duration.ofSeconds(10))
            .maxEjection(Duration.ofSeconds(60))
            .maxEjectedPercent(maxEjectedPercent)
            .scheduler(scheduler)
            .build();
    router = Router.builder(group).listener(detector).build();
  }

  private Backend b(String id) {
    return group.snapshot().member(id).backend();
  }

  private void fail(String id, int times) {
    for (int i = 0; i < times; i++) {
      router.reportConnectFailure(b(id), new ConnectException("Connection refused"));
    }
    scheduler.runDue();
  }

  private BackendState state(String id) {
    return group.snapshot().member(id).state();
  }

  @Test
  void consecutiveFailures_ejectWithExponentialBackOff_thenRecover() {
    setUp(4, 50);
    fail("b0", 2);
    assertThat(state("b0")).isEqualTo(BackendState.UP);
    fail("b0", 1);
    assertThat(state("b0")).isEqualTo(BackendState.DOWN);
    assertThat(group.snapshot().member("b0").isEjected()).isTrue();
    // Routing avoids it.
    for (int i = 0; i < 20; i++) {
      RoutingDecision d = router.select(RoutingRequest.builder().build());
      assertThat(d.backend().id()).isNotEqualTo("b0");
    }

    scheduler.advance(Duration.ofSeconds(10).minusMillis(1));
    assertThat(state("b0")).isEqualTo(BackendState.DOWN);
    scheduler.advance(Duration.ofMillis(1));
    assertThat(state("b0")).as("back after the base ejection").isEqualTo(BackendState.UP);

    fail("b0", 3);
    scheduler.advance(Duration.ofSeconds(20).minusMillis(1));
    assertThat(state("b0")).as("second ejection lasts twice as long").isEqualTo(BackendState.DOWN);
    scheduler.advance(Duration.ofMillis(1));
    assertThat(state("b0")).isEqualTo(BackendState.UP);

    fail("b0", 3);
    scheduler.advance(Duration.ofSeconds(40));
    assertThat(state("b0")).isEqualTo(BackendState.UP);
    fail("b0", 3);
    scheduler.advance(Duration.ofSeconds(60).minusMillis(1));
    assertThat(state("b0")).as("capped at the maximum").isEqualTo(BackendState.DOWN);
    scheduler.advance(Duration.ofMillis(1));
    assertThat(state("b0")).isEqualTo(BackendState.UP);

    // Behaving for a full maximum ejection resets the back-off.
    scheduler.advance(Duration.ofSeconds(60));
    fail("b0", 3);
    scheduler.advance(Duration.ofSeconds(10));
    assertThat(state("b0")).isEqualTo(BackendState.UP);
  }

  @Test
  @SuppressWarnings("deprecation") // the deprecated Router.openConnection must still report it
  void successfulConnect_resetsTheCount() {
    setUp(3, 50);
    fail("b1", 2);
    router.openConnection(b("b1")).close();
    fail("b1", 2);
    assertThat(state("b1")).isEqualTo(BackendState.UP);
    fail("b1", 1);
    assertThat(state("b1")).isEqualTo(BackendState.DOWN);
  }

  @Test
  void maxEjectedPercent_boundsEjections_andNeverEjectsEveryone() {
    setUp(4, 50);
    for (int i = 0; i < 4; i++) {
      fail("b" + i, 5);
    }
    assertThat(detector.ejectedCount()).isEqualTo(2);
    assertThat(group.snapshot().upMembers()).hasSize(2);

    detector.close();
    detector = null;
    BackendGroup one = BackendGroup.create(scheduler.clock());
    one.add(Backend.of("solo", "127.0.0.1", 1));
    try (OutlierDetector d =
        OutlierDetector.builder(one).consecutiveFailures(1).scheduler(scheduler).build()) {
      Router r = Router.builder(one).listener(d).build();
      r.reportConnectFailure(one.snapshot().member("solo").backend(), new ConnectException());
      scheduler.runDue();
      assertThat(one.snapshot().member("solo").state()).isEqualTo(BackendState.UP);
    }
  }

  @Test
  void maxEjected_isAtLeastOneAndAlwaysFewerThanAll() {
    assertThat(OutlierDetector.maxEjected(1, 100)).isZero();
    assertThat(OutlierDetector.maxEjected(2, 100)).isEqualTo(1);
    assertThat(OutlierDetector.maxEjected(3, 10)).isEqualTo(1);
    assertThat(OutlierDetector.maxEjected(10, 50)).isEqualTo(5);
    assertThat(OutlierDetector.maxEjected(10, 100)).isEqualTo(9);
  }

  @Test
  void realRefusedConnects_reportedLikeAnAdapterWould_ejectTheDeadBackend() throws IOException {
    TestBackend live = TestBackend.start();
    TestBackend dead = TestBackend.start();
    dead.down();
    group.add(live.backend("live"));
    group.add(dead.backend("dead"));
    detector = OutlierDetector.builder(group).consecutiveFailures(2).scheduler(scheduler).build();
    router = Router.builder(group).listener(detector).build();
    try {
      for (int i = 0; i < 6; i++) {
        RoutingDecision d = router.select(RoutingRequest.builder().build());
        Backend target = d.backend();
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress(target.host(), target.port()), 2000);
          d.openLease(d.backend(), reason -> {}).close();
        } catch (IOException e) {
          router.reportConnectFailure(target, e);
        }
        scheduler.runDue();
      }
      assertThat(group.snapshot().member("dead").isEjected()).isTrue();
      assertThat(group.snapshot().member("live").state()).isEqualTo(BackendState.UP);
    } finally {
      live.close();
    }
  }

  @Test
  void close_returnsEjectedBackends() {
    setUp(3, 50);
    fail("b2", 3);
    assertThat(state("b2")).isEqualTo(BackendState.DOWN);
    detector.close();
    detector = null;
    assertThat(state("b2")).isEqualTo(BackendState.UP);
  }

  @Test
  void builder_rejectsBadValues() {
    assertThatThrownBy(() -> OutlierDetector.builder(group).consecutiveFailures(0))
        .hasMessage("consecutiveFailures: 0 (expected: 1..1000)");
    assertThatThrownBy(
            () ->
                OutlierDetector.builder(group)
                    .baseEjection(Duration.ofMinutes(2))
                    .maxEjection(Duration.ofMinutes(1))
                    .build())
        .hasMessage("maxEjection: PT1M (expected: >= baseEjection PT2M)");
  }
}

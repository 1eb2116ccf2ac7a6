package dev.affinity.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.affinity.Router;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.RoutingKey;
import dev.affinity.testkit.ManualScheduler;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SlowStartTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private final ManualScheduler scheduler = new ManualScheduler(T0);
  private final BackendGroup group = BackendGroup.create(scheduler.clock());
  private SlowStart slowStart;

  @AfterEach
  void tearDown() {
    if (slowStart != null) {
      slowStart.close();
    }
  }

  private void install() {
    slowStart =
        SlowStart.builder(group)
            .window(Duration.ofSeconds(100))
            .step(Duration.ofSeconds(10))
            .scheduler(scheduler)
            .build()
            .start();
  }

  private double weight(String id) {
    return group.snapshot().member(id).effectiveWeight();
  }

  @Test
  void joiningBackend_rampsLinearlyFromTheMinimumToItsFullWeight() {
    group.add(Backend.of("a", "127.0.0.1", 1).withWeight(4));
    install();
    assertThat(weight("a")).as("members present at install are not ramped").isEqualTo(4.0);
    group.add(Backend.of("b", "127.0.0.1", 2).withWeight(4));
    assertThat(weight("b")).isEqualTo(0.4);
    String fp = group.snapshot().fingerprint();

    scheduler.advance(Duration.ofSeconds(50));
    assertThat(weight("b")).isCloseTo(2.0, within(1e-9));
    assertThat(group.snapshot().fingerprint()).isNotEqualTo(fp);
    scheduler.advance(Duration.ofSeconds(50));
    assertThat(weight("b")).isEqualTo(4.0);

    long version = group.snapshot().version();
    scheduler.advance(Duration.ofMinutes(5));
    assertThat(group.snapshot().version()).as("no publishes after the ramp").isEqualTo(version);
  }

  @Test
  void recoveringBackend_rampsAgain() {
    group.add(Backend.of("a", "127.0.0.1", 1));
    group.add(Backend.of("b", "127.0.0.1", 2));
    install();
    scheduler.advance(Duration.ofSeconds(200));
    group.markDown("b");
    assertThat(weight("b")).as("no ramp while DOWN").isEqualTo(1.0);
    scheduler.advance(Duration.ofSeconds(30));
    group.markUp("b");
    assertThat(weight("b")).isEqualTo(0.1);
    scheduler.advance(Duration.ofSeconds(30));
    assertThat(weight("b")).isCloseTo(0.3, within(1e-9));
  }

  @Test
  void rendezvousKeys_onlyMoveOntoTheRampingBackend_andItsShareGrows() {
    group.add(Backend.of("a", "127.0.0.1", 1));
    group.add(Backend.of("b", "127.0.0.1", 2));
    install();
    AffinityStrategy hash = AffinityStrategy.rendezvous(RoutingKey.header("X-Key"));
    Router router = Router.builder(group).strategy(hash).build();
    group.add(Backend.of("c", "127.0.0.1", 3));
    Map<String, String> owners = owners(router);
    int previousShare = share(owners, "c");
    for (int step = 0; step < 10; step++) {
      scheduler.advance(Duration.ofSeconds(10));
      Map<String, String> next = owners(router);
      for (Map.Entry<String, String> e : next.entrySet()) {
        String before = owners.get(e.getKey());
        assertThat(e.getValue().equals(before) || e.getValue().equals("c"))
            .as("key %s moved %s -> %s", e.getKey(), before, e.getValue())
            .isTrue();
      }
      int share = share(next, "c");
      assertThat(share).isGreaterThanOrEqualTo(previousShare);
      previousShare = share;
      owners = next;
    }
    // At full weight c owns about a third of 3000 keys.
    assertThat(previousShare).isBetween(850, 1150);
    assertThat(share(owners(router), "c")).isEqualTo(previousShare);
  }

  private static Map<String, String> owners(Router router) {
    Map<String, String> out = new HashMap<>();
    for (int i = 0; i < 3000; i++) {
      String key = "user-" + i;
      out.put(
          key, router.select(RoutingRequest.builder().header("X-Key", key).build()).backend().id());
    }
    return out;
  }

  private static int share(Map<String, String> owners, String id) {
    return (int) owners.values().stream().filter(id::equals).count();
  }

  @Test
  void close_restoresFullWeights() {
    group.add(Backend.of("a", "127.0.0.1", 1));
    install();
    group.add(Backend.of("b", "127.0.0.1", 2));
    assertThat(weight("b")).isEqualTo(0.1);
    slowStart.close();
    slowStart = null;
    assertThat(weight("b")).isEqualTo(1.0);
  }

  @Test
  void build_startsNothing_startRamps_andASecondStartIsRejected() {
    group.add(Backend.of("a", "127.0.0.1", 1));
    slowStart =
        SlowStart.builder(group)
            .window(Duration.ofSeconds(100))
            .step(Duration.ofSeconds(10))
            .scheduler(scheduler)
            .build();
    group.add(Backend.of("b", "127.0.0.1", 2));
    assertThat(weight("b")).as("built, not started: no ramp").isEqualTo(1.0);
    assertThat(scheduler.pending()).as("nothing scheduled by build()").isZero();

    slowStart.start();
    assertThat(scheduler.pending()).isEqualTo(1);
    group.add(Backend.of("c", "127.0.0.1", 3));
    assertThat(weight("b")).as("UP when started: not ramped").isEqualTo(1.0);
    assertThat(weight("c")).isEqualTo(0.1);
    assertThatThrownBy(slowStart::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("slow start is already started");

    slowStart.close();
    assertThat(weight("c")).isEqualTo(1.0);
    assertThat(scheduler.isShutdown()).as("a given scheduler is left running").isFalse();
    assertThatThrownBy(slowStart::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("slow start is closed");
  }

  @Test
  void builder_requiresAWindow() {
    assertThatThrownBy(() -> SlowStart.builder(group).build())
        .hasMessage("window: null (expected: a positive duration)");
    assertThatThrownBy(() -> SlowStart.builder(group).minWeightPercent(0))
        .hasMessage("minWeightPercent: 0 (expected: 1..100)");
  }
}

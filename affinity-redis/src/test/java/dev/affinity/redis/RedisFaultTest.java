package dev.affinity.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.testkit.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Fail static: Redis killed and restarted (empty) under a running fleet. */
class RedisFaultTest {
  private RedisServer redis;
  private final List<RedisFleet> fleets = new ArrayList<>();

  @BeforeEach
  void startRedis() throws Exception {
    redis = RedisServer.start();
  }

  @AfterEach
  void stop() throws Exception {
    fleets.forEach(RedisFleet::close);
    redis.close();
  }

  private RedisFleet fleet(String id, BackendGroup group, Duration heartbeat) {
    RedisFleet f =
        RedisFleet.builder(group)
            .redis(redis.uri())
            .instanceId(id)
            .heartbeat(heartbeat)
            .commandTimeout(Duration.ofMillis(500))
            .build();
    fleets.add(f);
    return f;
  }

  private static BackendGroup flags() {
    return BackendGroup.of(
        Backend.of("ws-1", "127.0.0.1", 9001), Backend.of("ws-2", "127.0.0.1", 9002));
  }

  @Test
  void redisKilled_instancesKeepTheirStateAndReportDegraded_thenResyncWhenItReturns()
      throws Exception {
    BackendGroup a = flags();
    BackendGroup b = flags();
    BackendGroup c = flags();
    RedisFleet fa = fleet("a", a, Duration.ofMillis(50));
    RedisFleet fb = fleet("b", b, Duration.ofMillis(50));
    RedisFleet fc = fleet("c", c, Duration.ofMillis(50));
    fa.start();
    fb.start();
    fc.start();
    fa.drain("ws-1");
    Await.until(
        "ws-1 draining on B and C",
        Duration.ofSeconds(10),
        () ->
            b.snapshot().member("ws-1").state() == BackendState.DRAINING
                && c.snapshot().member("ws-1").state() == BackendState.DRAINING);

    redis.kill();
    Await.until("B degraded", Duration.ofSeconds(10), () -> fb.status().degraded());

    // Last known state stays; routing needs nothing from Redis.
    assertThat(b.snapshot().member("ws-1").state()).isEqualTo(BackendState.DRAINING);
    assertThat(b.snapshot().member("ws-2").state()).isEqualTo(BackendState.UP);
    assertThatThrownBy(() -> fa.markDown("ws-2")).isInstanceOf(FleetUnavailableException.class);
    assertThat(a.snapshot().member("ws-2").state()).isEqualTo(BackendState.UP);

    redis.restart(); // empty: the instances write their applied state back
    Await.until(
        "all re-synced",
        Duration.ofSeconds(10),
        () -> !fa.status().degraded() && !fb.status().degraded() && !fc.status().degraded());
    Await.until(
        "Redis holds the state again",
        Duration.ofSeconds(10),
        () -> {
          try {
            fa.markDown("ws-2");
            return true;
          } catch (FleetUnavailableException e) {
            return false; // the connection is still coming back
          }
        });

    Await.until(
        "ws-2 down on B and C",
        Duration.ofSeconds(10),
        () ->
            b.snapshot().member("ws-2").state() == BackendState.DOWN
                && c.snapshot().member("ws-2").state() == BackendState.DOWN);
    assertThat(c.snapshot().member("ws-1").state()).isEqualTo(BackendState.DRAINING);
    assertThat(fb.status().degradedEpisodes()).isEqualTo(1);
  }

  @Test
  void start_redisDown_startsDegradedOnItsFlags_andLoadsWhenRedisAppears() throws Exception {
    RedisFleet writer = fleet("writer", flags(), Duration.ZERO);
    writer.start();
    writer.drain("ws-2");
    redis.kill();

    BackendGroup late = flags();
    RedisFleet fl = fleet("late", late, Duration.ZERO);
    assertThat(fl.start()).isFalse();
    assertThat(fl.status().degraded()).isTrue();
    assertThat(late.snapshot().member("ws-2").state()).isEqualTo(BackendState.UP);

    redis.restart();
    // The writer's state comes back from its own memory; the late one then loads it.
    Await.until("writer re-seeded", Duration.ofSeconds(10), writer::tick);
    Await.until("late loaded", Duration.ofSeconds(10), fl::tick);
    assertThat(late.snapshot().member("ws-2").state()).isEqualTo(BackendState.DRAINING);
    assertThat(fl.status().degraded()).isFalse();
  }
}

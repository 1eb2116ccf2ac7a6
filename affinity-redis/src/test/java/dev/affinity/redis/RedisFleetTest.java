package dev.affinity.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.testkit.Await;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fleet against a real {@code redis-server} started by the test. */
class RedisFleetTest {
  private static RedisServer redis;
  private static RedisClient raw;
  private static StatefulRedisConnection<String, String> rawConn;

  private final List<RedisFleet> fleets = new ArrayList<>();

  @BeforeAll
  static void startRedis() throws Exception {
    redis = RedisServer.start();
    raw = RedisClient.create(redis.uri());
    rawConn = raw.connect();
  }

  @AfterAll
  static void stopRedis() throws Exception {
    rawConn.close();
    raw.shutdown();
    redis.close();
  }

  @BeforeEach
  void flush() {
    rawConn.sync().flushall();
  }

  @AfterEach
  void closeFleets() {
    fleets.forEach(RedisFleet::close);
  }

  private static BackendGroup flags() {
    return BackendGroup.of(
        Backend.of("ws-1", "127.0.0.1", 9001), Backend.of("ws-2", "127.0.0.1", 9002));
  }

  /** A fleet member whose heartbeat the test drives with {@link RedisFleet#tick()}. */
  private RedisFleet fleet(String id, BackendGroup group) {
    RedisFleet f =
        RedisFleet.builder(group)
            .redis(redis.uri())
            .instanceId(id)
            .heartbeat(Duration.ZERO)
            .countTtl(Duration.ofSeconds(30))
            .commandTimeout(Duration.ofSeconds(2))
            .build();
    fleets.add(f);
    return f;
  }

  @Test
  void drain_onOneInstance_reachesTheOthersThroughThePublishedChange() {
    BackendGroup a = flags();
    BackendGroup b = flags();
    BackendGroup c = flags();
    RedisFleet fa = fleet("a", a);
    assertThat(fa.start()).isTrue();
    assertThat(fleet("b", b).start()).isTrue();
    assertThat(fleet("c", c).start()).isTrue();

    fa.drain("ws-1", Duration.ofMinutes(5));

    // Applied on A before drain returns; B and C hear it on the channel (no heartbeat runs).
    assertThat(a.snapshot().member("ws-1").state()).isEqualTo(BackendState.DRAINING);
    Await.until(
        "ws-1 draining on B and C",
        Duration.ofSeconds(1),
        () ->
            b.snapshot().member("ws-1").state() == BackendState.DRAINING
                && c.snapshot().member("ws-1").state() == BackendState.DRAINING);
    // The deadline is shared as an absolute time (millisecond precision).
    assertThat(c.snapshot().member("ws-1").drainDeadline().toEpochMilli())
        .isEqualTo(a.snapshot().member("ws-1").drainDeadline().toEpochMilli());
    assertThat(b.snapshot().member("ws-2").state()).isEqualTo(BackendState.UP);
  }

  @Test
  void add_onOneInstance_appearsEverywhere_andRemoveRemovesEverywhere() {
    BackendGroup a = flags();
    BackendGroup b = flags();
    RedisFleet fa = fleet("a", a);
    fa.start();
    fleet("b", b).start();

    fa.add(Backend.of("ws-3", "127.0.0.1", 9003).withWeight(3));
    Await.until("ws-3 on B", Duration.ofSeconds(10), () -> b.snapshot().member("ws-3") != null);
    assertThat(b.snapshot().member("ws-3").backend().weight()).isEqualTo(3);
    assertThat(b.snapshot().fingerprint()).isEqualTo(a.snapshot().fingerprint());

    fa.remove("ws-1");
    Await.until(
        "ws-1 gone on B", Duration.ofSeconds(10), () -> b.snapshot().member("ws-1") == null);
    assertThat(a.snapshot().member("ws-1")).isNull();
  }

  @Test
  void add_existingId_isRefusedAndNothingIsStored() {
    RedisFleet fa = fleet("a", flags());
    fa.start();

    assertThatThrownBy(() -> fa.add(Backend.of("ws-1", "127.0.0.1", 9001)))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessageContaining("backend: ws-1");
    assertThat(rawConn.sync().get("affinity:state:version")).isNull();
  }

  @Test
  void start_restartedInstance_loadsTheSharedStateBeforeReturning() {
    RedisFleet fa = fleet("a", flags());
    fa.start();
    fa.drain("ws-1");
    fa.markDown("ws-2");
    fa.add(Backend.of("ws-3", "127.0.0.1", 9003));

    BackendGroup c = flags(); // a restarted instance starts from its flags
    assertThat(fleet("c", c).start()).isTrue();

    // No waiting: start() returned with the state applied.
    assertThat(c.snapshot().member("ws-1").state()).isEqualTo(BackendState.DRAINING);
    assertThat(c.snapshot().member("ws-2").state()).isEqualTo(BackendState.DOWN);
    assertThat(c.snapshot().member("ws-3")).isNotNull();
    assertThat(fleets.get(1).status().appliedVersion()).isEqualTo(3);
  }

  @Test
  void tick_missedChange_isCaughtUpByVersion() {
    BackendGroup b = flags();
    RedisFleet fb = fleet("b", b);
    fb.start();
    // A newer state written without a message on the channel (as if the message was lost).
    rawConn
        .sync()
        .set(
            "affinity:state",
            new DesiredState(0, java.util.Map.of())
                .with(
                    new DesiredState.Entry(
                        Backend.of("ws-2", "127.0.0.1", 9002), BackendState.DOWN, -1))
                .encode());
    rawConn.sync().set("affinity:state:version", "7");
    assertThat(b.snapshot().member("ws-2").state()).isEqualTo(BackendState.UP);

    assertThat(fb.tick()).isTrue();

    assertThat(b.snapshot().member("ws-2").state()).isEqualTo(BackendState.DOWN);
    assertThat(fb.status().appliedVersion()).isEqualTo(7);
  }

  @Test
  void publishedChange_olderThanApplied_isNeverApplied() {
    BackendGroup a = flags();
    BackendGroup b = flags();
    RedisFleet fa = fleet("a", a);
    fa.start();
    fleet("b", b).start();
    fa.drain("ws-1");
    fa.drain("ws-2");
    Await.until(
        "version 2 on B",
        Duration.ofSeconds(10),
        () -> fleets.get(1).status().appliedVersion() == 2);

    // A stale message (version 1: everything UP) arrives late, then a newer one.
    String stale =
        "1\n"
            + DesiredState.EMPTY
                .with(
                    new DesiredState.Entry(
                        Backend.of("ws-1", "127.0.0.1", 9001), BackendState.UP, -1))
                .with(
                    new DesiredState.Entry(
                        Backend.of("ws-2", "127.0.0.1", 9002), BackendState.UP, -1))
                .encode();
    rawConn.sync().publish("affinity:state:changes", stale);
    fa.add(Backend.of("ws-3", "127.0.0.1", 9003));
    Await.until("ws-3 on B", Duration.ofSeconds(10), () -> b.snapshot().member("ws-3") != null);

    assertThat(b.snapshot().member("ws-1").state()).isEqualTo(BackendState.DRAINING);
    assertThat(b.snapshot().member("ws-2").state()).isEqualTo(BackendState.DRAINING);
  }

  @Test
  void heartbeat_reportsFingerprintAgreement_andHealthDisagreementShows() {
    BackendGroup a = flags();
    BackendGroup b = flags();
    RedisFleet fa = fleet("a", a);
    RedisFleet fb = fleet("b", b);
    fa.start();
    fb.start();
    fa.tick();
    fb.tick();
    assertThat(fa.status().instances()).isEqualTo(2);
    assertThat(fa.status().agrees()).isTrue();

    b.markDown("ws-2"); // a local change only (as a failing health check would make)
    fb.tick();
    fa.tick();

    assertThat(fa.status().instances()).isEqualTo(2);
    assertThat(fa.status().agreeing()).isEqualTo(1);
    assertThat(fa.status().agrees()).isFalse();
  }

  @Test
  void heartbeat_sharesLiveCounts_andCapsCountTheWholeFleet() {
    Backend capped = Backend.of("ws-1", "127.0.0.1", 9001).withMaxConnections(10);
    BackendGroup a = BackendGroup.of(capped);
    BackendGroup b = BackendGroup.of(capped);
    RedisFleet fa = fleet("a", a);
    RedisFleet fb = fleet("b", b);
    fa.start();
    fb.start();
    List<ConnectionLease> leases = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      leases.add(a.openConnection(capped));
    }
    fa.tick();
    fb.tick();

    assertThat(b.snapshot().member("ws-1").liveConnections()).isZero();
    assertThat(b.snapshot().member("ws-1").fleetConnections()).isEqualTo(7);
    for (int i = 0; i < 3; i++) {
      leases.add(b.openConnection(capped));
    }
    assertThat(b.snapshot().member("ws-1").hasCapacity()).isFalse();

    leases.forEach(ConnectionLease::close);
    fa.tick();
    fb.tick();
    assertThat(b.snapshot().member("ws-1").fleetConnections()).isZero();
  }

  @Test
  void heartbeat_deadInstancesCountsExpire() {
    Backend ws1 = Backend.of("ws-1", "127.0.0.1", 9001);
    BackendGroup a = BackendGroup.of(ws1);
    BackendGroup b = BackendGroup.of(ws1);
    RedisFleet fa =
        RedisFleet.builder(a)
            .redis(redis.uri())
            .instanceId("short-lived")
            .heartbeat(Duration.ZERO)
            .countTtl(Duration.ofMillis(200))
            .build();
    fleets.add(fa);
    RedisFleet fb = fleet("b", b);
    fa.start();
    fb.start();
    a.openConnection(ws1);
    fa.tick();
    fb.tick();
    assertThat(b.snapshot().member("ws-1").fleetConnections()).isEqualTo(1);

    fa.close(); // dies without a goodbye; Redis expires its report after the TTL
    Await.until(
        "the dead instance's report expired in Redis",
        Duration.ofSeconds(10),
        () -> rawConn.sync().exists("affinity:instance:short-lived") == 0);
    fb.tick();

    assertThat(b.snapshot().member("ws-1").fleetConnections()).isZero();
    assertThat(fb.status().instances()).isEqualTo(1);
  }

  @Test
  void builder_rejectsBadSettings() {
    BackendGroup g = flags();
    assertThatThrownBy(() -> RedisFleet.builder(g).build())
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessageContaining("redis: null");
    assertThatThrownBy(() -> RedisFleet.builder(g).redis("http://nope:1"))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessageContaining("redis: 'http://nope:1'");
    assertThatThrownBy(() -> RedisFleet.builder(g).namespace("a b"))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessageContaining("namespace: 'a b'");
    assertThatThrownBy(
            () ->
                RedisFleet.builder(g)
                    .redis("redis://127.0.0.1:1")
                    .heartbeat(Duration.ofSeconds(1))
                    .countTtl(Duration.ofMillis(500))
                    .build())
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessageContaining("countTtl: PT0.5S");
  }
}

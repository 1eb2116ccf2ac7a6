package dev.affinity.redis;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.LearnedAffinity;
import dev.affinity.strategy.LearnedCarrier;
import dev.affinity.strategy.LearnedStore;
import dev.affinity.testkit.Await;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Learned affinity shared through a real redis-server, including Redis dying and hanging. */
class RedisLearnedStoreTest {
  private static final byte[] KEY = "fleet-wide-learned-key-0123456789".getBytes(UTF_8);
  private static final Backend WS1 = Backend.of("ws-1", "127.0.0.1", 9001);
  private static final Backend WS2 = Backend.of("ws-2", "127.0.0.1", 9002);

  private RedisServer redis;
  private final List<RedisLearnedStore> stores = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    redis = RedisServer.start();
  }

  @AfterEach
  void stop() throws Exception {
    stores.forEach(RedisLearnedStore::close);
    redis.close();
  }

  private RedisLearnedStore store(Duration ttl) {
    RedisLearnedStore s =
        RedisLearnedStore.builder()
            .redis(redis.uri())
            .hmacKey(KEY)
            .ttl(ttl)
            .lookupBudget(Duration.ofMillis(50))
            .build();
    stores.add(s);
    assertThat(s.connect()).isTrue();
    return s;
  }

  private static RoutingRequest withSession(String sid) {
    return RoutingRequest.builder().remoteAddress("192.0.2.9", 5000).cookie("sid", sid).build();
  }

  private static LearnedStore.Hold learn(LearnedAffinity learned, Backend b, String setCookie) {
    Map<String, List<String>> h = Map.of("Set-Cookie", List.of(setCookie));
    return learned.learn(
        RoutingRequest.builder().remoteAddress("192.0.2.9", 5000).build(),
        b,
        n -> h.getOrDefault(n, List.of()));
  }

  @Test
  void valueLearnedOnOneInstance_routesThroughAnother() {
    LearnedCarrier carrier = LearnedCarrier.cookie("sid");
    LearnedAffinity onA = AffinityStrategy.learned(store(Duration.ofMinutes(5)), carrier);
    LearnedAffinity onB = AffinityStrategy.learned(store(Duration.ofMinutes(5)), carrier);
    Router routerB =
        Router.builder(BackendGroup.of(WS1, WS2))
            .strategy(onB)
            .fallback(AffinityStrategy.roundRobin())
            .build();

    learn(onA, WS2, "sid=room-42; Path=/").close();

    Await.until(
        "learned value visible on B",
        Duration.ofSeconds(10),
        () -> routerB.select(withSession("room-42")).strategy().equals("learned"));
    assertThat(routerB.select(withSession("room-42")).backend()).isEqualTo(WS2);
  }

  @Test
  void redisHoldsOnlyTheHmac_withTheTtl() {
    RedisLearnedStore s = store(Duration.ofMinutes(5));
    s.hold("JSESSIONID-secret-value", "ws-1").close();

    try (RedisClient raw = RedisClient.create(redis.uri());
        StatefulRedisConnection<String, String> c = raw.connect()) {
      Await.until(
          "written", Duration.ofSeconds(10), () -> !c.sync().keys("affinity:learned:*").isEmpty());
      List<String> keys = c.sync().keys("*");
      assertThat(keys).hasSize(1);
      assertThat(keys.get(0)).doesNotContain("secret").startsWith("affinity:learned:");
      assertThat(c.sync().get(keys.get(0))).isEqualTo("ws-1");
      assertThat(c.sync().pttl(keys.get(0))).isBetween(1L, Duration.ofMinutes(5).toMillis());
    }
  }

  @Test
  void heldValue_isRewrittenWhileHeld_andExpiresAfterTheLastHoldCloses() {
    RedisLearnedStore a = store(Duration.ofMillis(600)); // refreshed every 200 ms while held
    RedisLearnedStore b = store(Duration.ofMillis(600));
    LearnedStore.Hold hold = a.hold("v", "ws-2");
    try (RedisClient raw = RedisClient.create(redis.uri());
        StatefulRedisConnection<String, String> c = raw.connect()) {
      Await.until(
          "written", Duration.ofSeconds(10), () -> !c.sync().keys("affinity:learned:*").isEmpty());
      String k = c.sync().keys("affinity:learned:*").get(0);
      c.sync().del(k); // as if it had expired, or Redis had lost it

      Await.until(
          "rewritten by the refresher", Duration.ofSeconds(10), () -> c.sync().exists(k) == 1);
      // The rewritten key lives 600 ms unless the refresher comes again: on a loaded machine it
      // can lapse between two refreshes, so the other instance is asked until it sees the value.
      Await.until(
          "the other instance sees the rewritten value",
          Duration.ofSeconds(10),
          () -> "ws-2".equals(b.lookup("v")));

      hold.close();
      Await.until(
          "expired after the last hold closed",
          Duration.ofSeconds(10),
          () -> c.sync().exists(k) == 0);
      assertThat(b.lookup("v")).isNull();
    }
  }

  @Test
  void redisKilled_lookupsAbstainAndRoutingContinues_thenLearningResumes() throws Exception {
    RedisLearnedStore s = store(Duration.ofMinutes(5));
    LearnedAffinity learned = AffinityStrategy.learned(s, LearnedCarrier.cookie("sid"));
    Router router =
        Router.builder(BackendGroup.of(WS1, WS2))
            .strategy(learned)
            .fallback(AffinityStrategy.sourceIp())
            .build();

    redis.kill();
    Await.until(
        "store sees Redis down",
        Duration.ofSeconds(10),
        () -> s.lookup("unknown") == null && s.lookupMisses() > 0);
    for (int i = 0; i < 50; i++) {
      assertThat(router.select(withSession("s" + i)).hasBackend()).isTrue();
    }
    LearnedStore.Hold hold = learn(learned, WS1, "sid=while-down"); // never throws
    assertThat(router.select(withSession("while-down")).backend()).isEqualTo(WS1); // held locally

    redis.restart();
    RedisLearnedStore other = store(Duration.ofMinutes(5));
    // Held values are written back after Redis lost them, once the connection is back.
    Await.until(
        "refreshed into the new Redis",
        Duration.ofSeconds(10),
        () -> {
          s.refreshNow();
          return "ws-1".equals(other.lookup("while-down"));
        });
    hold.close();
  }

  @Test
  void redisHanging_lookupGivesUpAtTheBudget_andTheNextStrategyDecides() throws Exception {
    RedisLearnedStore s = store(Duration.ofMinutes(5));
    LearnedAffinity learned = AffinityStrategy.learned(s, LearnedCarrier.cookie("sid"));
    Router router =
        Router.builder(BackendGroup.of(WS1, WS2))
            .strategy(learned)
            .fallback(AffinityStrategy.sourceIp())
            .build();
    long missesBefore = s.lookupMisses();

    redis.pause(); // SIGSTOP: the connection stays open, Redis answers nothing
    try {
      assertThat(router.select(withSession("anything")).strategy()).isEqualTo("source-ip");
      assertThat(s.lookupMisses()).isEqualTo(missesBefore + 1);
    } finally {
      redis.resume();
    }
  }
}

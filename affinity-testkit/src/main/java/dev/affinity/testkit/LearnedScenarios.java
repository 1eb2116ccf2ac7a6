package dev.affinity.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.LearnedAffinity;
import dev.affinity.strategy.LearnedCarrier;
import dev.affinity.strategy.LearnedStore;
import dev.affinity.strategy.RoutingKey;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * Learned affinity on both adapters: a real backend sets its session cookie (or header) in its 101,
 * the adapter's {@code learnedAffinity} option stores value → backend, and a later handshake
 * carrying that value goes to that backend, not where the hash behind it would send it. The store
 * runs on a manual clock, so the test also shows that the value is held while its tunnel is open
 * and expires after the tunnel ended. Extend it once per adapter.
 */
public abstract class LearnedScenarios {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final Duration TTL = Duration.ofMinutes(5);
  private static final byte[] KEY = "learned-scenarios-hmac-key".getBytes(StandardCharsets.UTF_8);

  /**
   * Starts the adapter in proxy mode on 127.0.0.1 in front of {@code router}, learning from each
   * backend's 101 with {@code learned} (the adapter's {@code learnedAffinity} option).
   */
  protected abstract ProxyHandle startLearningProxy(Router router, LearnedAffinity learned)
      throws Exception;

  @Test
  void cookieSetInTheBackends101_routesALaterHandshakeCarryingIt_toThatBackend() throws Exception {
    try (EchoBackend ws1 =
            EchoBackend.builder("ws-1").on101("Set-Cookie", "SID=sess-ws-1; Path=/").start();
        EchoBackend ws2 =
            EchoBackend.builder("ws-2").on101("Set-Cookie", "SID=sess-ws-2; Path=/").start()) {
      runScenario(ws1, ws2, LearnedCarrier.cookie("SID"), false);
    }
  }

  @Test
  void headerSetInTheBackends101_routesALaterHandshakeCarryingIt_toThatBackend() throws Exception {
    try (EchoBackend ws1 = EchoBackend.builder("ws-1").on101("X-Room", "room-ws-1").start();
        EchoBackend ws2 = EchoBackend.builder("ws-2").on101("X-Room", "room-ws-2").start()) {
      runScenario(ws1, ws2, LearnedCarrier.header("X-Room"), true);
    }
  }

  @Test
  void storeThatThrows_neverFailsTheHandshake_andIsCounted() throws Exception {
    LearnedStore broken =
        new LearnedStore() {
          @Override
          public String lookup(String value) {
            throw new IllegalStateException("store down");
          }

          @Override
          public Hold hold(String value, String backendId) {
            throw new IllegalStateException("store down");
          }
        };
    LearnedAffinity learned = AffinityStrategy.learned(broken, LearnedCarrier.cookie("SID"));
    try (EchoBackend ws1 =
            EchoBackend.builder("ws-1").on101("Set-Cookie", "SID=sess-ws-1; Path=/").start();
        ProxyHandle proxy =
            startLearningProxy(
                Router.builder(BackendGroup.of(Backend.of("ws-1", "127.0.0.1", ws1.port())))
                    .strategy(learned)
                    .build(),
                learned);
        WsClient client = WsClient.jdk();
        WsSession ws =
            client.connect(Handshake.to(proxy.port(), "/").header("Cookie", "SID=sess-ws-1"))) {
      assertThat(ws.nextText()).isEqualTo("backend:ws-1");
      ws.sendText("still relayed");
      assertThat(ws.nextText()).isEqualTo("still relayed");
      assertThat(learned.lookupFailures()).isEqualTo(1);
      assertThat(learned.learnFailures()).isEqualTo(1);
    }
  }

  private void runScenario(
      EchoBackend ws1, EchoBackend ws2, LearnedCarrier carrier, boolean headerCarrier)
      throws Exception {
    BackendGroup group =
        BackendGroup.of(
            Backend.of("ws-1", "127.0.0.1", ws1.port()),
            Backend.of("ws-2", "127.0.0.1", ws2.port()));
    AffinityStrategy byUser = AffinityStrategy.rendezvous(RoutingKey.header("X-User"));
    ManualScheduler time = new ManualScheduler(Instant.parse("2026-01-01T00:00:00Z"));
    LearnedStore store = LearnedStore.inMemory(KEY, TTL, time.clock());
    LearnedAffinity learned = AffinityStrategy.learned(store, carrier);
    Router router = Router.builder(group).strategy(learned).strategy(byUser).build();
    Router hashOnly = Router.builder(group).strategy(byUser).build();

    try (ProxyHandle proxy = startLearningProxy(router, learned);
        WsClient client = WsClient.jdk()) {
      // The first client is placed by the hash; its backend sets the value in its 101.
      WsSession first = client.connect(Handshake.to(proxy.port(), "/").header("X-User", "u-1"));
      String issuer = first.nextText().substring("backend:".length());
      String value = (headerCarrier ? "room-" : "sess-") + issuer;
      Await.until("the proxy learned " + value, WAIT, () -> issuer.equals(store.lookup(value)));

      // A user the hash alone would send elsewhere, carrying the learned value.
      String other = userHashedAwayFrom(hashOnly, issuer);
      Handshake returning =
          Handshake.to(proxy.port(), "/")
              .header("X-User", other)
              .header(headerCarrier ? "X-Room" : "Cookie", headerCarrier ? value : "SID=" + value);
      try (WsSession back = client.connect(returning)) {
        assertThat(back.nextText()).isEqualTo("backend:" + issuer);
      }

      // Held while the first tunnel is open, however much time passes.
      time.advance(TTL.multipliedBy(3));
      assertThat(store.lookup(value)).isEqualTo(issuer);
      try (WsSession held = client.connect(returning)) {
        assertThat(held.nextText()).isEqualTo("backend:" + issuer);
      }

      // The tunnel ends: the hold is released and the value lives out its time to live.
      first.close();
      Await.until(
          "the learned value expires after its tunnel closed",
          WAIT,
          () -> {
            time.advance(TTL.plusSeconds(1));
            return store.lookup(value) == null;
          });
      try (WsSession forgotten = client.connect(returning)) {
        assertThat(forgotten.nextText()).isNotEqualTo("backend:" + issuer);
      }
    }
    assertThat(learned.learnFailures()).isZero();
  }

  /** A user id whose hash chooses a backend other than {@code backendId}. */
  private static String userHashedAwayFrom(Router hashOnly, String backendId) {
    for (int i = 0; i < 1_000; i++) {
      String user = "u-" + i;
      RoutingRequest r =
          RoutingRequest.builder()
              .remoteAddress("127.0.0.1", 40_000)
              .header("X-User", user)
              .build();
      if (!hashOnly.select(r).backend().id().equals(backendId)) {
        return user;
      }
    }
    throw new AssertionError("no user hashed away from " + backendId);
  }
}

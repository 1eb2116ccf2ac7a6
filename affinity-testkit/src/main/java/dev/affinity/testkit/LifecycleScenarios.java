package dev.affinity.testkit;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.Member;
import dev.affinity.hash.RendezvousHash;
import dev.affinity.lifecycle.ConnectionLifecycle;
import dev.affinity.lifecycle.HealthChecker;
import dev.affinity.lifecycle.HealthProbe;
import dev.affinity.lifecycle.OutlierDetector;
import dev.affinity.metrics.RoutingListener;
import dev.affinity.metrics.RoutingStats;
import dev.affinity.micrometer.AffinityMetrics;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.CookieAffinity;
import dev.affinity.strategy.CookieKey;
import dev.affinity.strategy.CookieKeys;
import dev.affinity.strategy.RoutingKey;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The backend lifecycle (docs/operations.md) end to end through an adapter, written once: real
 * {@link EchoBackend}s that go down, come back and hang; real WebSocket clients; the adapter under
 * test in between. An adapter's test subclasses this and implements {@link #startProxy}, exactly as
 * for {@link AdapterScenarios}.
 *
 * <p>What the scenarios check: active health checks detect a backend that stops or hangs at exactly
 * {@code fall} failed probes and bring it back at exactly {@code rise} passed ones, and the proxy
 * routes around it meanwhile; connect failures the adapter reports eject a backend and it returns;
 * a drained backend keeps its open connections and its returning sticky clients, takes no new
 * clients, and at its deadline the adapter closes what remains, spread over the close window, with
 * close code 1001; re-homing closes exactly the connections whose key moved, with 1012; maximum
 * lifetimes close connections at jittered times, with 1012; two proxies fed the same membership
 * changes agree; and the Micrometer binding reports the counts the scenario produced.
 *
 * <p>Health checks run on real clocks with short intervals, so waits are generous and assertions
 * are about order and counts, never about speed. Drain deadlines, re-homing and lifetimes run on a
 * {@link ManualScheduler}: the test moves time and checks what is closed at each step.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
public abstract class LifecycleScenarios {
  /** How long waits last at most; generous because machines are loaded. */
  protected static final Duration WAIT = Duration.ofSeconds(30);

  private static final CookieKey COOKIE_KEY =
      CookieKey.of(1, "lifecycle-scenarios-key-0123456789abcdef".getBytes(StandardCharsets.UTF_8));

  private final List<EchoBackend> backends = new ArrayList<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private BackendGroup group = BackendGroup.create();

  /**
   * Starts the adapter under test as a proxy on 127.0.0.1 routing with {@code router}; see {@link
   * AdapterScenarios#startProxy}.
   *
   * @throws Exception if the proxy cannot start
   */
  protected abstract ProxyHandle startProxy(Router router, ProxySettings settings) throws Exception;

  @BeforeEach
  void startBackends() {
    List<Backend> members = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      EchoBackend b = EchoBackend.start("ws-" + i);
      backends.add(b);
      members.add(Backend.of(b.id(), "127.0.0.1", b.port()));
    }
    group = BackendGroup.of(members);
  }

  @AfterEach
  void stopEverything() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
    for (EchoBackend b : backends) {
      b.close();
    }
  }

  private <T extends AutoCloseable> T closeLater(T c) {
    closeables.add(c);
    return c;
  }

  private EchoBackend backend(String id) {
    return backends.stream().filter(b -> b.id().equals(id)).findFirst().orElseThrow();
  }

  private ProxyHandle proxy(Router router) throws Exception {
    return closeLater(startProxy(router, ProxySettings.DEFAULTS));
  }

  private static void await(String what, BooleanSupplier condition) {
    Await.until(what, WAIT, condition);
  }

  /**
   * Puts the scenario on manual time: the group (and so the router and its cookies) gets the
   * returned scheduler's clock, with the same members. Give the scheduler to the lifecycle; the
   * test then moves time with {@link ManualScheduler#advance} and the lifecycle's closes are
   * requested on the test's thread, so what is closed at each step does not depend on load.
   */
  private ManualScheduler manualTime() {
    ManualScheduler time = new ManualScheduler(Instant.now());
    BackendGroup manual = BackendGroup.create(time.clock());
    for (Member m : group.snapshot().members()) {
      manual.add(m.backend());
    }
    group = manual;
    return time;
  }

  private static long closedCount(List<WsSession> sessions) {
    return sessions.stream().filter(s -> !s.isOpen()).count();
  }

  /**
   * A barrier for "nothing else was closed": a round trip on each session. A close the lifecycle
   * requested before this point reaches the client before the echo does, or fails the echo.
   */
  private static void echoOnEach(List<WsSession> sessions, String text) {
    for (WsSession s : sessions) {
      s.sendText(text);
      assertThat(s.nextText()).as("echo on an open session").isEqualTo(text);
    }
  }

  private BackendState state(String id) {
    return requireNonNull(group.snapshot().member(id), id).state();
  }

  /** Opens a session and returns the backend it reached (the echo backend announces itself). */
  private static String connect(WsClient client, Handshake handshake, List<WsSession> into) {
    WsSession s = client.connect(handshake);
    into.add(s);
    String hello = s.nextText();
    assertThat(hello).startsWith("backend:");
    return hello.substring("backend:".length());
  }

  /** Records, for each backend, the run of consecutive probe results that ended in a change. */
  private static final class ProbeLog implements HealthProbe {
    private final HealthProbe probe;
    private final Map<String, AtomicInteger> failuresInARow = new HashMap<>();
    private final Map<String, AtomicInteger> successesInARow = new HashMap<>();

    ProbeLog(HealthProbe probe) {
      this.probe = probe;
    }

    @Override
    public void probe(Backend backend, Duration timeout) throws Exception {
      try {
        probe.probe(backend, timeout);
      } catch (Exception e) {
        synchronized (this) {
          counter(failuresInARow, backend.id()).incrementAndGet();
          counter(successesInARow, backend.id()).set(0);
        }
        throw e;
      }
      synchronized (this) {
        counter(successesInARow, backend.id()).incrementAndGet();
        counter(failuresInARow, backend.id()).set(0);
      }
    }

    private static AtomicInteger counter(Map<String, AtomicInteger> m, String id) {
      return m.computeIfAbsent(id, k -> new AtomicInteger());
    }

    synchronized int failuresInARow(String id) {
      return counter(failuresInARow, id).get();
    }

    synchronized int successesInARow(String id) {
      return counter(successesInARow, id).get();
    }
  }

  // ---------------------------------------------------------------- active health

  @Test
  void activeHealth_backendThatStopsHangsAndReturns_isDetectedAtTheThresholds_andAvoided()
      throws Exception {
    ProbeLog log = new ProbeLog(HealthProbe.webSocket("/"));
    // At the moment of each change, the probe results that caused it.
    List<String> changes = new CopyOnWriteArrayList<>();
    group.addListener(
        (prev, cur) -> {
          for (Member m : cur.members()) {
            Member before = prev.member(m.id());
            if (before != null && before.state() != m.state()) {
              changes.add(
                  m.id()
                      + " "
                      + before.state()
                      + "->"
                      + m.state()
                      + " after "
                      + (m.state() == BackendState.DOWN
                          ? log.failuresInARow(m.id()) + " failures"
                          : log.successesInARow(m.id()) + " successes"));
            }
          }
        });
    closeLater(
        HealthChecker.builder(group)
            .probe(log)
            .interval(Duration.ofMillis(100))
            .jitter(Duration.ofMillis(20))
            .timeout(Duration.ofMillis(500))
            .fall(2)
            .rise(3)
            .build()
            .start());
    ProxyHandle proxy = proxy(Router.builder(group).build());
    WsClient client = closeLater(WsClient.jdk());
    List<WsSession> sessions = new ArrayList<>();

    backend("ws-1").stop();
    await("ws-1 is DOWN", () -> changes.size() >= 1);
    assertThat(state("ws-1")).isEqualTo(BackendState.DOWN);
    for (int i = 0; i < 6; i++) {
      assertThat(connect(client, Handshake.to(proxy.port(), "/"), sessions)).isNotEqualTo("ws-1");
    }

    backend("ws-2").hang(true);
    await("hanging ws-2 is DOWN", () -> changes.size() >= 2);
    assertThat(state("ws-2")).isEqualTo(BackendState.DOWN);
    for (int i = 0; i < 4; i++) {
      assertThat(connect(client, Handshake.to(proxy.port(), "/"), sessions)).isEqualTo("ws-3");
    }

    backend("ws-1").start();
    backend("ws-2").hang(false);
    // Listeners run just after a snapshot is published: wait for what they recorded.
    await("ws-1 and ws-2 are back UP", () -> changes.size() >= 4);
    assertThat(changes).hasSize(4);
    assertThat(state("ws-1")).isEqualTo(BackendState.UP);
    assertThat(state("ws-2")).isEqualTo(BackendState.UP);
    assertThat(changes.subList(0, 2))
        .containsExactly("ws-1 UP->DOWN after 2 failures", "ws-2 UP->DOWN after 2 failures");
    assertThat(changes.subList(2, 4))
        .containsExactlyInAnyOrder(
            "ws-1 DOWN->UP after 3 successes", "ws-2 DOWN->UP after 3 successes");
    // Least connections now prefers the returned, empty backends.
    assertThat(connect(client, Handshake.to(proxy.port(), "/"), sessions)).isIn("ws-1", "ws-2");
    sessions.forEach(WsSession::close);
  }

  // ---------------------------------------------------------------- passive health and metrics

  @Test
  void passiveHealth_connectFailuresTheAdapterReports_ejectAndReturn_andMicrometerCountsThem()
      throws Exception {
    AtomicInteger reported = new AtomicInteger();
    AtomicInteger decisions = new AtomicInteger();
    RoutingStats stats = RoutingStats.create();
    OutlierDetector outliers =
        closeLater(
            OutlierDetector.builder(group)
                .consecutiveFailures(2)
                .baseEjection(Duration.ofMillis(1500))
                .maxEjection(Duration.ofSeconds(10))
                .build());
    Router router =
        Router.builder(group)
            .fallback(AffinityStrategy.roundRobin())
            .listener(outliers)
            .listener(stats)
            .listener(
                new RoutingListener() {
                  @Override
                  public void connectFailed(Backend backend, Throwable cause) {
                    if (backend.id().equals("ws-1")) {
                      reported.incrementAndGet();
                    }
                  }

                  @Override
                  public void decisionMade(dev.affinity.RoutingDecision decision) {
                    decisions.incrementAndGet();
                  }
                })
            .build();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    closeLater(AffinityMetrics.of(router, stats)).bindTo(registry);
    ProxyHandle proxy = proxy(router);
    WsClient client = closeLater(WsClient.jdk());
    List<WsSession> sessions = new ArrayList<>();

    backend("ws-1").stop();
    // Round robin sends every third client to ws-1; the adapter fails over, so all get through.
    for (int i = 0; i < 9; i++) {
      assertThat(connect(client, Handshake.to(proxy.port(), "/"), sessions)).isNotEqualTo("ws-1");
    }
    // Listeners (and so the stats) hear a change just after it is published: wait for them.
    await("ws-1 is ejected", () -> stats.transitions(BackendState.UP, BackendState.DOWN) == 1);
    assertThat(requireNonNull(group.snapshot().member("ws-1"), "ws-1").isEjected()).isTrue();
    assertThat(reported.get()).isGreaterThanOrEqualTo(2);

    backend("ws-1").start();
    await(
        "ws-1 returns from ejection",
        () -> stats.transitions(BackendState.DOWN, BackendState.UP) == 1);
    assertThat(state("ws-1")).isEqualTo(BackendState.UP);
    boolean reached = false;
    for (int i = 0; i < 6 && !reached; i++) {
      reached = connect(client, Handshake.to(proxy.port(), "/"), sessions).equals("ws-1");
    }
    assertThat(reached).as("ws-1 takes clients again").isTrue();

    // The binding reports exactly what happened.
    assertThat(registry.get("affinity.connect.failures").tag("backend", "ws-1").functionCounter())
        .satisfies(c -> assertThat(c.count()).isEqualTo(reported.get()));
    double total = 0;
    for (var c : registry.get("affinity.decisions").functionCounters()) {
      total += c.count();
    }
    assertThat(total).isEqualTo(decisions.get()).isEqualTo(sessions.size());
    assertThat(
            registry
                .get("affinity.backend.transitions")
                .tags("from", "up", "to", "down")
                .functionCounter()
                .count())
        .isEqualTo(1);
    assertThat(
            registry
                .get("affinity.backend.transitions")
                .tags("from", "down", "to", "up")
                .functionCounter()
                .count())
        .isEqualTo(1);
    Map<String, Integer> open = new HashMap<>();
    await(
        "every session is counted",
        () ->
            group.liveConnections().values().stream().mapToInt(Integer::intValue).sum()
                == sessions.size());
    for (String id : List.of("ws-1", "ws-2", "ws-3")) {
      double live = registry.get("affinity.connections.live").tag("backend", id).gauge().value();
      assertThat(live).isEqualTo(group.liveConnections(id));
      open.put(id, (int) live);
    }
    assertThat(open.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(sessions.size());
    sessions.forEach(WsSession::close);
    await("closed sessions are released", () -> group.liveConnections("ws-2") == 0);
    assertThat(registry.get("affinity.connections.live").tag("backend", "ws-2").gauge().value())
        .isZero();
  }

  // ---------------------------------------------------------------- drain

  @Test
  void drain_keepsOpenAndReturningClients_refusesNewOnes_thenClosesTheRestSpreadOverTheWindow()
      throws Exception {
    ManualScheduler time = manualTime();
    Duration window = Duration.ofSeconds(2);
    closeLater(
        ConnectionLifecycle.builder(group)
            .drainCloseWindow(window)
            .scheduler(time)
            .random(new Random(13))
            .build()
            .start());
    Router router =
        Router.builder(group)
            .strategy(
                AffinityStrategy.cookie(CookieAffinity.builder(CookieKeys.of(COOKIE_KEY)).build()))
            .build();
    ProxyHandle proxy = proxy(router);
    Map<String, List<WsClient>> clientsOf = new HashMap<>();
    Map<WsSession, String> sessionBackend = new HashMap<>();
    for (int i = 0; i < 12; i++) {
      WsClient c = closeLater(WsClient.jdk());
      List<WsSession> s = new ArrayList<>();
      String b = connect(c, Handshake.to(proxy.port(), "/"), s);
      clientsOf.computeIfAbsent(b, k -> new ArrayList<>()).add(c);
      sessionBackend.put(s.get(0), b);
    }
    String drained = "ws-1";
    List<WsSession> onDrained = new ArrayList<>();
    sessionBackend.forEach(
        (s, b) -> {
          if (b.equals(drained)) {
            onDrained.add(s);
          }
        });
    assertThat(onDrained).as("least connections spread 12 clients").hasSizeGreaterThanOrEqualTo(3);

    Instant deadline = time.now().plus(Duration.ofSeconds(3));
    group.drain(drained, Duration.ofSeconds(3));
    time.runDue();
    // Open connections stay and still work.
    echoOnEach(onDrained, "still here");
    // A returning sticky client comes back to the drained backend...
    WsClient returning = requireNonNull(clientsOf.get(drained), drained).get(0);
    List<WsSession> returned = new ArrayList<>();
    assertThat(connect(returning, Handshake.to(proxy.port(), "/"), returned)).isEqualTo(drained);
    onDrained.addAll(returned);
    // ...and new clients never get it.
    for (int i = 0; i < 6; i++) {
      WsClient fresh = closeLater(WsClient.jdk());
      assertThat(connect(fresh, Handshake.to(proxy.port(), "/"), new ArrayList<>()))
          .isNotEqualTo(drained);
    }
    int n = onDrained.size();
    await("every session is counted", () -> group.liveConnections(drained) == n);

    // Nothing closes before the deadline.
    time.advance(Duration.between(time.now(), deadline).minusMillis(1));
    echoOnEach(onDrained, "before the deadline");
    assertThat(closedCount(onDrained)).as("closed before the deadline").isZero();
    // From the deadline, one close in each 1/n of the window.
    time.advance(Duration.ofMillis(1));
    Duration slot = window.dividedBy(n);
    for (int k = 1; k <= n; k++) {
      time.advance(slot);
      long expected = k;
      await(
          k + " of " + n + " closed after " + k + "/" + n + " of the window",
          () -> closedCount(onDrained) == expected);
    }
    sessionBackend.forEach(
        (s, b) -> {
          if (!b.equals(drained)) {
            assertThat(s.isOpen()).as("a connection to %s", b).isTrue();
          }
        });
    assertThat(onDrained)
        .as("closed with 1001 going away")
        .allSatisfy(s -> assertThat(s.closeStatus()).as("%s", s).isEqualTo(1001));
    await("the drained backend's leases are released", () -> group.liveConnections(drained) == 0);
  }

  // ---------------------------------------------------------------- re-homing

  @Test
  void rehoming_closesExactlyTheConnectionsWhoseKeyMoved_andTheyReconnectToTheNewOwner()
      throws Exception {
    Backend third = requireNonNull(group.snapshot().member("ws-3"), "ws-3").backend();
    group.remove("ws-3");
    ManualScheduler time = manualTime();
    closeLater(ConnectionLifecycle.builder(group).rehoming(100).scheduler(time).build().start());
    time.runDue();
    Router router =
        Router.builder(group)
            .strategy(AffinityStrategy.rendezvous(RoutingKey.header("X-Room")))
            .build();
    ProxyHandle proxy = proxy(router);
    WsClient client = closeLater(WsClient.jdk());
    Map<String, WsSession> byKey = new HashMap<>();
    for (int i = 0; i < 24; i++) {
      String key = "room-" + i;
      List<WsSession> s = new ArrayList<>();
      String b = connect(client, Handshake.to(proxy.port(), "/").header("X-Room", key), s);
      assertThat(b).isEqualTo(RendezvousHash.owner(key, List.of("ws-1", "ws-2")));
      byKey.put(key, s.get(0));
    }
    await(
        "every session is counted",
        () -> group.liveConnections("ws-1") + group.liveConnections("ws-2") == 24);

    group.add(third);
    List<String> moved = new ArrayList<>();
    for (String key : byKey.keySet()) {
      if ("ws-3".equals(RendezvousHash.owner(key, List.of("ws-1", "ws-2", "ws-3")))) {
        moved.add(key);
      }
    }
    assertThat(moved).as("some of 24 keys move to the new backend").isNotEmpty();
    // 100 closes per second: every re-home is requested once a second per 100 has passed.
    time.advance(Duration.ofMillis(10L * (moved.size() + 1)));
    assertThat(time.pending()).as("re-homes left to run").isZero();
    await(
        "moved sessions are closed",
        () -> moved.stream().noneMatch(k -> requireNonNull(byKey.get(k), k).isOpen()));
    // Every close the lifecycle will request has been requested: the others still echo.
    List<WsSession> stayed = new ArrayList<>();
    byKey.forEach(
        (key, s) -> {
          if (!moved.contains(key)) {
            stayed.add(s);
          }
        });
    echoOnEach(stayed, "not moved");
    byKey.forEach(
        (key, s) ->
            assertThat(s.isOpen()).as("session of %s", key).isEqualTo(!moved.contains(key)));
    for (String key : moved) {
      assertThat(requireNonNull(byKey.get(key), key).closeStatus())
          .as("%s closed with 1012", key)
          .isEqualTo(1012);
    }
    for (String key : moved) {
      assertThat(
              connect(
                  client, Handshake.to(proxy.port(), "/").header("X-Room", key), new ArrayList<>()))
          .isEqualTo("ws-3");
    }
  }

  // ---------------------------------------------------------------- lifetime

  @Test
  void maxLifetime_closesConnectionsAtJitteredTimes() throws Exception {
    ManualScheduler time = manualTime();
    Duration max = Duration.ofMillis(2500);
    Duration jitter = Duration.ofMillis(1500);
    closeLater(
        ConnectionLifecycle.builder(group)
            .maxLifetime(max, jitter)
            .scanInterval(Duration.ofMillis(100))
            .scheduler(time)
            .random(new Random(13))
            .build()
            .start());
    ProxyHandle proxy = proxy(Router.builder(group).build());
    WsClient client = closeLater(WsClient.jdk());
    List<WsSession> sessions = new ArrayList<>();
    Instant opened = time.now();
    for (int i = 0; i < 8; i++) {
      connect(client, Handshake.to(proxy.port(), "/"), sessions);
    }
    await(
        "every session is counted",
        () ->
            group.snapshot().members().stream().mapToInt(m -> group.liveConnections(m.id())).sum()
                == 8);
    // Nothing closes before max - jitter.
    time.advance(max.minus(jitter).minusMillis(1));
    echoOnEach(sessions, "young");
    assertThat(closedCount(sessions)).as("closed before max - jitter").isZero();
    // Half way through the jitter some are closed and, jittered, not all of them.
    time.advance(jitter.dividedBy(2));
    await("some sessions reach their jittered lifetime", () -> closedCount(sessions) > 0);
    assertThat(closedCount(sessions)).as("closed half way through the jitter").isLessThan(8);
    // By max every one is closed.
    time.advance(Duration.between(time.now(), opened.plus(max)));
    await("every session reaches its lifetime", () -> closedCount(sessions) == 8);
    assertThat(sessions).allSatisfy(s -> assertThat(s.closeStatus()).as("%s", s).isEqualTo(1012));
  }

  // ---------------------------------------------------------------- agreement

  @Test
  void twoProxies_fedTheSameMembershipChanges_reportTheSameFingerprint_andRouteAlike()
      throws Exception {
    List<Backend> members = new ArrayList<>();
    for (Member m : group.snapshot().members()) {
      members.add(m.backend());
    }
    BackendGroup other = BackendGroup.create();
    for (int i = members.size() - 1; i >= 0; i--) {
      other.add(members.get(i)); // another insertion order
    }
    Router.Builder b1 =
        Router.builder(group).strategy(AffinityStrategy.rendezvous(RoutingKey.header("X-Room")));
    Router.Builder b2 =
        Router.builder(other).strategy(AffinityStrategy.rendezvous(RoutingKey.header("X-Room")));
    Router r1 = b1.build();
    Router r2 = b2.build();
    ProxyHandle p1 = proxy(r1);
    ProxyHandle p2 = proxy(r2);
    WsClient client = closeLater(WsClient.jdk());
    List<WsSession> sessions = new ArrayList<>();
    List<Runnable> changes =
        List.of(
            () -> {},
            () -> {
              group.markDown("ws-2");
              other.markDown("ws-2");
            },
            () -> {
              group.update(members.get(0).withWeight(3));
              other.update(members.get(0).withWeight(3));
            },
            () -> {
              group.markUp("ws-2");
              other.markUp("ws-2");
              group.drain("ws-3");
              other.drain("ws-3");
            });
    for (Runnable change : changes) {
      change.run();
      assertThat(r1.membershipFingerprint()).isEqualTo(r2.membershipFingerprint());
      for (int i = 0; i < 8; i++) {
        Handshake h = Handshake.to(p1.port(), "/").header("X-Room", "room-" + i);
        String via1 = connect(client, h, sessions);
        String via2 =
            connect(client, Handshake.to(p2.port(), "/").header("X-Room", "room-" + i), sessions);
        assertThat(via2).as("room-%d after a change", i).isEqualTo(via1);
      }
    }
    sessions.forEach(WsSession::close);
  }
}

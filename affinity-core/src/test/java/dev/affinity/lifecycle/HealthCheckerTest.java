package dev.affinity.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.Member;
import dev.affinity.testkit.Await;
import dev.affinity.testkit.ManualScheduler;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HealthCheckerTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private final ManualScheduler scheduler = new ManualScheduler(T0);
  private final BackendGroup group = BackendGroup.create(scheduler.clock());
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final Map<String, AtomicInteger> probes = new ConcurrentHashMap<>();
  private final List<String> transitions = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private TestBackend backend(String id) throws IOException {
    TestBackend b = TestBackend.start();
    closeables.add(b);
    group.add(b.backend(id));
    return b;
  }

  /** Wraps a probe to count runs per backend, so tests step probe by probe. */
  private HealthProbe counting(HealthProbe probe) {
    return (backend, timeout) -> {
      probes.computeIfAbsent(backend.id(), k -> new AtomicInteger()).incrementAndGet();
      probe.probe(backend, timeout);
    };
  }

  private HealthChecker checker(HealthProbe probe, int fall, int rise, Duration timeout) {
    group.addListener(
        (prev, cur) -> {
          for (Member m : cur.members()) {
            Member before = prev.member(m.id());
            if (before != null && before.state() != m.state()) {
              transitions.add(m.id() + ":" + before.state() + "->" + m.state());
            }
          }
        });
    HealthChecker c =
        HealthChecker.builder(group)
            .probe(counting(probe))
            .interval(Duration.ofSeconds(1))
            .jitter(Duration.ZERO)
            .timeout(timeout)
            .fall(fall)
            .rise(rise)
            .scheduler(scheduler)
            .probeExecutor(Runnable::run) // probes run on the test thread, inside advance()
            .random(new Random(5))
            .build()
            .start();
    closeables.add(c);
    return c;
  }

  /** Advances fake time until {@code id} has been probed {@code n} times in all. */
  private void probeUntil(String id, int n) {
    for (int i = 0; i < 10_000 && count(id) < n; i++) {
      scheduler.advance(Duration.ofMillis(100));
    }
    assertThat(count(id)).isEqualTo(n);
  }

  private int count(String id) {
    AtomicInteger c = probes.get(id);
    return c == null ? 0 : c.get();
  }

  private BackendState state(String id) {
    return group.snapshot().member(id).state();
  }

  @Test
  void tcp_backendThatGoesDown_isDownAfterExactlyFallFailures_andUpAfterRiseSuccesses()
      throws IOException {
    TestBackend a = backend("a");
    backend("b");
    checker(HealthProbe.tcp(), 3, 2, Duration.ofSeconds(2));
    probeUntil("a", 1);
    assertThat(state("a")).isEqualTo(BackendState.UP);

    a.down();
    int before = count("a");
    probeUntil("a", before + 2);
    assertThat(state("a")).as("two failures of three").isEqualTo(BackendState.UP);
    probeUntil("a", before + 3);
    assertThat(state("a")).isEqualTo(BackendState.DOWN);
    assertThat(group.snapshot().member("a").isHealthy()).isFalse();
    assertThat(state("b")).isEqualTo(BackendState.UP);

    a.up();
    before = count("a");
    probeUntil("a", before + 1);
    assertThat(state("a")).as("one success of two").isEqualTo(BackendState.DOWN);
    probeUntil("a", before + 2);
    assertThat(state("a")).isEqualTo(BackendState.UP);
    assertThat(transitions).containsExactly("a:UP->DOWN", "a:DOWN->UP");
  }

  @Test
  void webSocket_healthyBackendPasses_hangingAnd503BackendsFail() throws IOException {
    backend("ok");
    TestBackend hang = backend("hang");
    TestBackend busy = backend("busy");
    hang.mode(TestBackend.Mode.HANG);
    busy.mode(TestBackend.Mode.STATUS_503);
    checker(HealthProbe.webSocket("/health"), 2, 1, Duration.ofMillis(500));
    probeUntil("hang", 2);
    probeUntil("busy", 2);
    probeUntil("ok", 2);
    assertThat(state("hang")).isEqualTo(BackendState.DOWN);
    assertThat(state("busy")).isEqualTo(BackendState.DOWN);
    assertThat(state("ok")).isEqualTo(BackendState.UP);

    hang.mode(TestBackend.Mode.WEBSOCKET);
    probeUntil("hang", 3);
    assertThat(state("hang")).isEqualTo(BackendState.UP);
  }

  @Test
  void tcp_hangingBackendStillPasses_whichIsWhyTheWebSocketProbeExists() throws IOException {
    TestBackend hang = backend("hang");
    hang.mode(TestBackend.Mode.HANG);
    checker(HealthProbe.tcp(), 1, 1, Duration.ofMillis(500));
    probeUntil("hang", 3);
    assertThat(state("hang")).isEqualTo(BackendState.UP);
  }

  @Test
  void healthIsKeptApartFromTheAdministrativeState() throws IOException {
    TestBackend a = backend("a");
    backend("b");
    checker(HealthProbe.tcp(), 1, 1, Duration.ofSeconds(2));
    group.drain("a", Duration.ofHours(1));
    Instant deadline = group.snapshot().member("a").drainDeadline();
    a.down();
    probeUntil("a", count("a") + 1);
    assertThat(state("a")).isEqualTo(BackendState.DOWN);
    assertThat(group.snapshot().member("a").adminState()).isEqualTo(BackendState.DRAINING);

    group.markUp("a"); // an operator cannot override a failing health check
    assertThat(state("a")).isEqualTo(BackendState.DOWN);
    group.drain("a", Duration.ofHours(1));

    a.up();
    probeUntil("a", count("a") + 1);
    Member m = group.snapshot().member("a");
    assertThat(m.state()).as("recovers to its drained state").isEqualTo(BackendState.DRAINING);
    assertThat(m.drainDeadline()).isAfterOrEqualTo(deadline);
  }

  @Test
  void newMembersAreProbed_removedOnesAreNot() throws IOException {
    backend("a");
    checker(HealthProbe.tcp(), 1, 1, Duration.ofSeconds(2));
    probeUntil("a", 1);
    TestBackend b = TestBackend.start();
    closeables.add(b);
    group.add(b.backend("b"));
    probeUntil("b", 2);
    group.remove("b");
    int n = count("b");
    scheduler.advance(Duration.ofSeconds(10));
    assertThat(count("b")).isEqualTo(n);
    assertThat(count("a")).isGreaterThan(5);
  }

  @Test
  void ownThreads_detectRealDownBackend_andCloseStopsThem() throws Exception {
    BackendGroup real = BackendGroup.create();
    TestBackend a = TestBackend.start();
    closeables.add(a);
    real.add(a.backend("a"));
    HealthChecker c =
        HealthChecker.builder(real)
            .probe(HealthProbe.webSocket("/"))
            .interval(Duration.ofMillis(50))
            .timeout(Duration.ofSeconds(2))
            .fall(1)
            .rise(1)
            .build()
            .start();
    closeables.add(c);
    a.down();
    Await.until(
        "the checker marks a DOWN",
        Duration.ofSeconds(20),
        () -> real.snapshot().member("a").state() == BackendState.DOWN);
    assertThat(c.isHealthy("a")).isFalse();
    c.close();
    Await.until(
        "the checker's own threads end on close",
        Duration.ofSeconds(20),
        () -> !checkerThreadsAlive());
    assertThat(checkerThreadsAlive()).as("own threads end on close").isFalse();
    // With its threads gone, nothing probes: a recovered backend stays DOWN (no timed wait needed).
    a.up();
    assertThat(real.snapshot().member("a").state()).isEqualTo(BackendState.DOWN);
  }

  private static boolean checkerThreadsAlive() {
    return Thread.getAllStackTraces().keySet().stream()
        .anyMatch(
            t ->
                t.isAlive()
                    && (t.getName().startsWith("affinity-health")
                        || t.getName().startsWith("affinity-probe")));
  }

  @Test
  void close_onASharedScheduler_cancelsEveryScheduledCheck() throws IOException {
    backend("a");
    backend("b");
    HealthChecker c = checker((backend, timeout) -> {}, 1, 1, Duration.ofSeconds(1));
    probeUntil("a", 2);
    assertThat(scheduler.pending()).as("one check scheduled per member").isEqualTo(2);
    c.close();
    scheduler.runDue();
    assertThat(scheduler.isShutdown()).as("the scheduler is the caller's").isFalse();
    assertThat(scheduler.pending()).as("checks left on the caller's scheduler").isZero();
  }

  @Test
  void start_twiceOrAfterClose_isRejectedNamingTheChecker() {
    HealthChecker c = checker((backend, timeout) -> {}, 1, 1, Duration.ofSeconds(1)); // started
    assertThatThrownBy(c::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("checker is already started");
    c.close();
    assertThatThrownBy(c::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("checker is closed");
  }

  @Test
  void builder_rejectsBadValues() {
    assertThatThrownBy(() -> HealthChecker.builder(group).build().start())
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("probe: null (expected: a HealthProbe)");
    assertThatThrownBy(() -> HealthChecker.builder(group).fall(0))
        .hasMessage("fall: 0 (expected: 1..100)");
    assertThatThrownBy(
            () ->
                HealthChecker.builder(group)
                    .probe(HealthProbe.tcp())
                    .interval(Duration.ofSeconds(1))
                    .jitter(Duration.ofSeconds(2))
                    .build()
                    .start())
        .hasMessage("jitter: PT2S (expected: <= interval PT1S)");
    assertThatThrownBy(() -> HealthProbe.webSocket("health"))
        .hasMessage("path: 'health' (expected: a path starting with /)");
  }
}

package dev.affinity.lifecycle;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.Outcome;
import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.CloseReason;
import dev.affinity.backend.ConnectionCloser;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.backend.LifecycleHooks;
import dev.affinity.hash.RendezvousHash;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.RoutingKey;
import dev.affinity.testkit.ManualScheduler;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ConnectionLifecycleTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private final ManualScheduler scheduler = new ManualScheduler(T0);
  private final BackendGroup group = BackendGroup.create(scheduler.clock());
  private ConnectionLifecycle lifecycle;

  @AfterEach
  void tearDown() {
    if (lifecycle != null) {
      lifecycle.close();
    }
  }

  /** A connection the test pretends an adapter holds: records when and why it was closed. */
  final class FakeConnection implements ConnectionCloser {
    final String key;
    ConnectionLease lease;
    CloseReason reason;
    Instant closedAt;

    FakeConnection(String key) {
      this.key = key;
    }

    @Override
    public void close(CloseReason r) {
      assertThat(reason).as("closer called once").isNull();
      reason = r;
      closedAt = scheduler.now();
      lease.close(); // the adapter closes the lease when its connection has ended
    }

    boolean closed() {
      return reason != null;
    }
  }

  private static RoutingRequest requestFor(String key) {
    return RoutingRequest.builder()
        .remoteAddress("127.0.0.1", 40000)
        .path("/ws")
        .header("X-Key", key)
        .build();
  }

  private FakeConnection open(Router router, String key) {
    RoutingDecision d = router.select(requestFor(key));
    assertThat(d.hasBackend()).isTrue();
    FakeConnection c = new FakeConnection(key);
    c.lease = d.openLease(d.backend(), c);
    return c;
  }

  private FakeConnection openOn(String id) {
    FakeConnection c = new FakeConnection(id);
    c.lease = group.openConnection(group.snapshot().member(id).backend(), c);
    return c;
  }

  private void addBackends(String... ids) {
    for (String id : ids) {
      group.add(Backend.of(id, "127.0.0.1", 9000 + id.hashCode() % 500));
    }
  }

  @Test
  void build_startsNothing_untilStart_andStartTwiceOrAfterCloseThrows() {
    addBackends("a");
    lifecycle =
        ConnectionLifecycle.builder(group)
            .scheduler(scheduler)
            .drainCloseWindow(Duration.ZERO)
            .build();
    FakeConnection c = openOn("a");
    group.drain("a", Duration.ofMinutes(1));
    scheduler.advance(Duration.ofMinutes(2));
    assertThat(c.closed()).as("a built, unstarted lifecycle closes nothing").isFalse();

    lifecycle.start();
    group.drain("a", Duration.ofMinutes(1)); // a new deadline, seen by the started lifecycle
    scheduler.advance(Duration.ofMinutes(2));
    assertThat(c.reason).isEqualTo(CloseReason.DRAIN_DEADLINE);
    assertThatThrownBy(lifecycle::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("lifecycle is already started");
    lifecycle.close();
    assertThatThrownBy(lifecycle::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("lifecycle is closed");
  }

  @Test
  void drainDeadline_closesRemainingConnectionsSpreadOverTheWindow() {
    addBackends("a", "b");
    lifecycle =
        ConnectionLifecycle.builder(group)
            .scheduler(scheduler)
            .random(new Random(7))
            .drainCloseWindow(Duration.ofSeconds(40))
            .build()
            .start();
    List<FakeConnection> onA = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      onA.add(openOn("a"));
    }
    FakeConnection onB = openOn("b");

    group.drain("a", Duration.ofMinutes(5));
    scheduler.advance(Duration.ofMinutes(5).minusMillis(1));
    assertThat(onA).noneMatch(FakeConnection::closed);

    scheduler.advance(Duration.ofSeconds(41));
    assertThat(onA).allMatch(c -> c.reason == CloseReason.DRAIN_DEADLINE);
    assertThat(onB.closed()).isFalse();
    assertThat(group.liveConnections("a")).isZero();
    Instant deadline = T0.plus(Duration.ofMinutes(5));
    // Spread: each tenth of the window holds exactly a tenth of the closes.
    int[] perTenth = new int[10];
    for (FakeConnection c : onA) {
      long ms = Duration.between(deadline, c.closedAt).toMillis();
      assertThat(ms).isBetween(0L, 39_999L);
      perTenth[(int) (ms / 4_000)]++;
    }
    assertThat(perTenth).containsOnly(4);
    // Jittered: not all at slot starts.
    assertThat(onA.stream().map(c -> c.closedAt).distinct().count()).isEqualTo(40);
  }

  @Test
  void drainDeadline_cancelledWhenMarkedUpBeforeTheDeadline() {
    addBackends("a");
    lifecycle = ConnectionLifecycle.builder(group).scheduler(scheduler).build().start();
    FakeConnection c = openOn("a");
    group.drain("a", Duration.ofSeconds(10));
    scheduler.advance(Duration.ofSeconds(5));
    group.markUp("a");
    scheduler.advance(Duration.ofMinutes(5));
    assertThat(c.closed()).isFalse();
  }

  @Test
  void drainDeadline_movedDeadlineIsHonoured() {
    addBackends("a");
    lifecycle =
        ConnectionLifecycle.builder(group)
            .scheduler(scheduler)
            .drainCloseWindow(Duration.ZERO)
            .build()
            .start();
    FakeConnection c = openOn("a");
    group.drain("a", Duration.ofSeconds(10));
    scheduler.advance(Duration.ofSeconds(5));
    group.drain("a", Duration.ofSeconds(60)); // deadline now T0 + 65s
    scheduler.advance(Duration.ofSeconds(59));
    assertThat(c.closed()).isFalse();
    scheduler.advance(Duration.ofSeconds(1));
    assertThat(c.reason).isEqualTo(CloseReason.DRAIN_DEADLINE);
    assertThat(c.closedAt).isEqualTo(T0.plusSeconds(65));
  }

  @Test
  void drainWithoutDeadline_closesNothing() {
    addBackends("a");
    lifecycle = ConnectionLifecycle.builder(group).scheduler(scheduler).build().start();
    FakeConnection c = openOn("a");
    group.drain("a");
    scheduler.advance(Duration.ofDays(1));
    assertThat(c.closed()).isFalse();
  }

  @Test
  void plainLeases_areCountedButNeverClosed() {
    addBackends("a");
    lifecycle =
        ConnectionLifecycle.builder(group)
            .scheduler(scheduler)
            .drainCloseWindow(Duration.ZERO)
            .build()
            .start();
    ConnectionLease plain = group.openConnection(group.snapshot().member("a").backend());
    group.drain("a", Duration.ofSeconds(1));
    scheduler.advance(Duration.ofSeconds(2));
    assertThat(plain.isClosed()).isFalse();
    assertThat(group.liveConnections("a")).isEqualTo(1);
  }

  @Test
  void rehoming_closesOnlyConnectionsWhoseOwnerChanged_rateLimited() {
    addBackends("a", "b", "c");
    Router router =
        Router.builder(group)
            .strategy(AffinityStrategy.rendezvous(RoutingKey.header("X-Key")))
            .build();
    lifecycle =
        ConnectionLifecycle.builder(group)
            .scheduler(scheduler)
            .random(new Random(1))
            .rehoming(10)
            .build()
            .start();
    List<FakeConnection> conns = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      conns.add(open(router, "user-" + i));
    }
    scheduler.runDue();

    group.add(Backend.of("d", "127.0.0.1", 9100));
    Map<String, Integer> moved = new HashMap<>();
    for (FakeConnection c : conns) {
      String owner = RendezvousHash.owner(c.key, List.of("a", "b", "c", "d"));
      if (!owner.equals(c.lease.backend().id())) {
        moved.merge(owner, 1, Integer::sum);
      }
    }
    // Every key that moves moves to the new backend, as rendezvous hashing promises.
    assertThat(moved.keySet()).containsExactly("d");
    int expected = moved.get("d");
    assertThat(expected).isBetween(30, 120);

    scheduler.advance(Duration.ofSeconds(1));
    long afterOneSecond = conns.stream().filter(FakeConnection::closed).count();
    assertThat(afterOneSecond).as("at most 10 closes per second, jittered").isBetween(9L, 11L);

    scheduler.advance(Duration.ofSeconds(expected / 10 + 2));
    for (FakeConnection c : conns) {
      boolean ownerChanged =
          !RendezvousHash.owner(c.key, List.of("a", "b", "c", "d")).equals(c.lease.backend().id());
      assertThat(c.closed()).as(c.key).isEqualTo(ownerChanged);
      if (ownerChanged) {
        assertThat(c.reason).isEqualTo(CloseReason.REHOME);
      }
    }
    // The closed clients reconnect to the new owner.
    FakeConnection again =
        open(router, conns.stream().filter(FakeConnection::closed).findFirst().orElseThrow().key);
    assertThat(again.lease.backend().id()).isEqualTo("d");
  }

  @Test
  void rehoming_skipsConnectionsWhoseKeyCameBackBeforeItsTurn() {
    addBackends("a", "b");
    Router router =
        Router.builder(group)
            .strategy(AffinityStrategy.rendezvous(RoutingKey.header("X-Key")))
            .build();
    lifecycle = ConnectionLifecycle.builder(group).scheduler(scheduler).rehoming(1).build().start();
    List<FakeConnection> conns = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      conns.add(open(router, "k" + i));
    }
    scheduler.runDue();
    group.add(Backend.of("c", "127.0.0.1", 9100));
    scheduler.advance(Duration.ofMillis(1)); // the scan runs; closes are queued 1 per second
    group.remove("c");
    scheduler.advance(Duration.ofMinutes(2));
    long closed = conns.stream().filter(FakeConnection::closed).count();
    assertThat(closed).as("only closes that ran before c left").isLessThanOrEqualTo(1);
  }

  @Test
  void rehoming_ignoresConnectionsWithoutAKey() {
    addBackends("a", "b");
    Router router = Router.builder(group).build(); // least connections: no key
    lifecycle =
        ConnectionLifecycle.builder(group).scheduler(scheduler).rehoming(1000).build().start();
    List<FakeConnection> conns = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      conns.add(open(router, "k" + i));
    }
    group.add(Backend.of("c", "127.0.0.1", 9100));
    group.markDown("a");
    scheduler.advance(Duration.ofMinutes(1));
    assertThat(conns).noneMatch(FakeConnection::closed);
  }

  @Test
  void rehoming_offByDefault() {
    addBackends("a", "b");
    Router router =
        Router.builder(group)
            .strategy(AffinityStrategy.rendezvous(RoutingKey.header("X-Key")))
            .build();
    lifecycle = ConnectionLifecycle.builder(group).scheduler(scheduler).build().start();
    List<FakeConnection> conns = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      conns.add(open(router, "k" + i));
    }
    group.add(Backend.of("c", "127.0.0.1", 9100));
    scheduler.advance(Duration.ofMinutes(1));
    assertThat(conns).noneMatch(FakeConnection::closed);
    assertThat(lifecycle.rehomingEnabled()).isFalse();
  }

  @Test
  void maxLifetime_closesEachConnectionJitteredWithinTheBand() {
    addBackends("a");
    lifecycle =
        ConnectionLifecycle.builder(group)
            .scheduler(scheduler)
            .random(new Random(3))
            .maxLifetime(Duration.ofMinutes(60), Duration.ofMinutes(10))
            .build()
            .start();
    List<FakeConnection> conns = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      conns.add(openOn("a"));
    }
    scheduler.advance(Duration.ofMinutes(50).minusSeconds(2));
    assertThat(conns).noneMatch(FakeConnection::closed);
    scheduler.advance(Duration.ofMinutes(11));
    assertThat(conns).allMatch(c -> c.reason == CloseReason.MAX_LIFETIME);
    List<Instant> times = new ArrayList<>();
    for (FakeConnection c : conns) {
      assertThat(c.closedAt)
          .isBetween(T0.plus(Duration.ofMinutes(50)), T0.plus(Duration.ofMinutes(60)));
      times.add(c.closedAt);
    }
    // Jittered: no two close together, and both halves of the band are used.
    assertThat(times.stream().distinct().count()).isEqualTo(100);
    long early = times.stream().filter(t -> t.isBefore(T0.plus(Duration.ofMinutes(55)))).count();
    assertThat(early).isBetween(25L, 75L);
  }

  @Test
  void close_stopsAllFurtherCloses() {
    addBackends("a");
    lifecycle =
        ConnectionLifecycle.builder(group)
            .scheduler(scheduler)
            .maxLifetime(Duration.ofMinutes(1), Duration.ZERO)
            .build()
            .start();
    FakeConnection c = openOn("a");
    group.drain("a", Duration.ofSeconds(1));
    lifecycle.close();
    scheduler.advance(Duration.ofHours(1));
    assertThat(c.closed()).isFalse();
  }

  @Test
  void throwingCloser_isIsolated() {
    addBackends("a");
    lifecycle =
        ConnectionLifecycle.builder(group)
            .scheduler(scheduler)
            .drainCloseWindow(Duration.ZERO)
            .build()
            .start();
    ConnectionLease throwing =
        group.openConnection(
            group.snapshot().member("a").backend(),
            r -> {
              throw new IllegalStateException("boom");
            });
    FakeConnection ok = openOn("a");
    group.drain("a", Duration.ofSeconds(1));
    scheduler.advance(Duration.ofSeconds(2));
    assertThat(ok.reason).isEqualTo(CloseReason.DRAIN_DEADLINE);
    assertThat(throwing.isClosed()).isFalse();
    assertThat(group.liveConnections("a")).isEqualTo(1);
  }

  @Test
  void builder_rejectsBadValuesWithClearMessages() {
    ConnectionLifecycle.Builder b = ConnectionLifecycle.builder(group);
    assertThatThrownBy(() -> b.rehoming(0))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("rehoming: 0.0 (expected: > 0 and <= 1000000 closes per second)");
    assertThatThrownBy(() -> b.maxLifetime(Duration.ofMinutes(1), Duration.ofMinutes(1)))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessageStartingWith("jitter: PT1M (expected: >= 0 and < maxLifetime PT1M)");
    assertThatThrownBy(() -> b.drainCloseWindow(Duration.ofSeconds(-1)))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("drainCloseWindow: PT-1S (expected: >= 0)");
  }

  @Test
  void decisionLease_remembersOwnerForFailoverLeases() {
    addBackends("a", "b");
    Router router =
        Router.builder(group)
            .strategy(AffinityStrategy.rendezvous(RoutingKey.header("X-Key")))
            .build();
    RoutingDecision d = router.select(requestFor("k1"));
    assertThat(d.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    Backend other = d.failoverCandidates().get(0);
    FakeConnection c = new FakeConnection("k1");
    c.lease = d.openLease(other, c);
    LifecycleHooks.TrackedLease lease = LifecycleHooks.trackedLeases(group, other.id()).get(0);
    assertThat(requireNonNull(lease.owner()).ownerId(group.snapshot())).isEqualTo(d.backend().id());
    c.lease.close();
    assertThat(LifecycleHooks.trackedLeases(group, other.id())).isEmpty();
  }
}

package dev.affinity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.backend.Membership;
import dev.affinity.lifecycle.ConnectionLifecycle;
import dev.affinity.metrics.RoutingListener;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.CookieAffinity;
import dev.affinity.strategy.CookieKey;
import dev.affinity.strategy.CookieKeys;
import dev.affinity.strategy.RoutingKey;
import dev.affinity.strategy.Selection;
import dev.affinity.strategy.Selector;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** Selectors are built once per published snapshot, and a decision never hashes its key twice. */
class RouterSelectorTest {
  private static BackendGroup group(int n) {
    BackendGroup g = BackendGroup.create();
    for (int i = 0; i < n; i++) {
      g.add(Backend.of("b" + i, "10.0.0." + (i + 1), 8080));
    }
    return g;
  }

  /** Delegates to a built-in strategy and counts the selectors it builds. */
  private static final class Counting implements AffinityStrategy {
    final AffinityStrategy inner;
    final AtomicInteger builds = new AtomicInteger();

    Counting(AffinityStrategy inner) {
      this.inner = inner;
    }

    @Override
    public Selection select(RoutingRequest request, Membership membership) {
      throw new AssertionError("a router must use the selector");
    }

    @Override
    public String name() {
      return inner.name();
    }

    @Override
    public Selector selector(Membership membership, @Nullable Selector previous) {
      builds.incrementAndGet();
      return inner.selector(membership, previous);
    }
  }

  @Test
  void selector_builtOncePerPublish_neverOnSelect() throws Exception {
    BackendGroup g = group(4);
    Counting maglev = new Counting(AffinityStrategy.maglev(RoutingKey.header("X-Key")));
    Counting fallback = new Counting(AffinityStrategy.roundRobin());
    Router router = Router.builder(g).strategy(maglev).fallback(fallback).build();
    assertThat(maglev.builds).hasValue(1);
    assertThat(fallback.builds).hasValue(1);

    g.add(Backend.of("b9", "10.0.0.9", 8080));
    g.markDown("b1");
    g.drain("b2");
    g.remove("b3");
    assertThat(maglev.builds).hasValue(5);
    assertThat(fallback.builds).hasValue(5);

    // Many threads select at once, with and without a key: nothing is built.
    ExecutorService pool = Executors.newFixedThreadPool(4);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<Integer>> done = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      int thread = t;
      done.add(
          pool.submit(
              () -> {
                start.await();
                int chosen = 0;
                for (int i = 0; i < 5_000; i++) {
                  RoutingRequestBuilder b =
                      RoutingRequest.builder().remoteAddress("203.0.113.7", 1000 + thread);
                  if (i % 2 == 0) {
                    b.header("X-Key", "k" + thread + "-" + i);
                  }
                  chosen += router.select(b.build()).hasBackend() ? 1 : 0;
                }
                return chosen;
              }));
    }
    start.countDown();
    for (Future<Integer> f : done) {
      assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(5_000);
    }
    pool.shutdown();
    assertThat(maglev.builds).hasValue(5);
    assertThat(fallback.builds).hasValue(5);

    // A closed router no longer follows its group.
    router.close();
    g.add(Backend.of("b8", "10.0.0.8", 8080));
    assertThat(maglev.builds).hasValue(5);
  }

  @Test
  void close_detachesTheRouterFromItsGroup() {
    BackendGroup g = group(2);
    List<String> events = new ArrayList<>();
    RoutingListener listener =
        new RoutingListener() {
          @Override
          public void membershipChanged(Membership membership) {
            events.add("v" + membership.version());
          }
        };
    for (int i = 0; i < 3; i++) {
      // Rebuilding routers (a key rotation, say) and closing the old ones leaves no listener.
      Router.builder(g).listener(listener).build().close();
    }
    g.add(Backend.of("b9", "10.0.0.9", 8080));
    assertThat(events).isEmpty();
  }

  /** A header key that counts how often its value is read, that is, how often it is hashed. */
  private static final class CountingKey {
    final AtomicInteger reads = new AtomicInteger();
    final RoutingKey key =
        RoutingKey.of(
            "counted header",
            r -> {
              reads.incrementAndGet();
              return r.header("X-Key");
            },
            true);
  }

  @SuppressWarnings("try") // the lifecycle below is opened for its effect on leases
  @Test
  void decision_hashesTheKeyOncePerHandshake_throughFailoverCookieLeaseAndRehoming() {
    BackendGroup g = group(5);
    CountingKey counted = new CountingKey();
    CookieAffinity cookies =
        CookieAffinity.builder(
                CookieKeys.of(
                    CookieKey.of(
                        1, "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8))))
            .build();
    Router router =
        Router.builder(g)
            .strategy(AffinityStrategy.cookie(cookies))
            .strategy(AffinityStrategy.boundedLoad(AffinityStrategy.rendezvous(counted.key), 1.5))
            .build();
    List<ConnectionLease> leases = new ArrayList<>();
    // The lifecycle is only open so that leases carry what re-homing needs; nothing calls it.
    try (ConnectionLifecycle lifecycle =
        ConnectionLifecycle.builder(g).rehoming(1000).build().start()) {
      for (int i = 0; i < 20; i++) {
        int before = counted.reads.get();
        RoutingDecision d =
            router.select(RoutingRequest.builder().header("X-Key", "user-" + i).build());
        List<Backend> next = d.failoverCandidates();
        assertThat(next).isNotEmpty();
        Backend connected = next.get(0); // as if connecting to the chosen backend failed
        assertThat(d.cookieFor(connected)).isNotNull();
        leases.add(d.openLease(connected, reason -> {}));
        assertThat(counted.reads.get() - before).as("hashes for handshake %d", i).isEqualTo(1);
      }
      int before = counted.reads.get();
      // Membership changes make re-homing ask every lease's owner again: from the kept hash.
      g.add(Backend.of("b7", "10.0.0.7", 8080));
      g.remove("b0");
      assertThat(counted.reads.get()).isEqualTo(before);
    } finally {
      leases.forEach(ConnectionLease::close);
      router.close();
    }
  }
}

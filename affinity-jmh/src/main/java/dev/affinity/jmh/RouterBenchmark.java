package dev.affinity.jmh;

import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.backend.Member;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.RoutingKey;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code Router.select} for each built-in strategy over request views built once in setup, cycling
 * through {@value Fixtures#KEYS} distinct clients. The membership is steady, so per-snapshot state
 * (rendezvous arrays, the Maglev table, the round-robin table) is built once, before measuring.
 *
 * <p>The bounded-load and least-connections cases hold 10 live connections per backend, so their
 * load checks read real counts.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RouterBenchmark {
  @Param({
    "source-ip",
    "header",
    "weighted",
    "bounded-load",
    "maglev",
    "rendezvous-table",
    "round-robin",
    "least-connections",
    "p2c"
  })
  public String strategy;

  @Param({"3", "16", "100", "1000"})
  public int backends;

  @Param({"ipv4", "ipv6"})
  public String keys;

  /** The rendezvous table's bucket count (the smoke test uses a small one). */
  @Param({"4194304"})
  public int tableBuckets;

  private Router router;
  private RoutingRequest[] requests;
  private final List<ConnectionLease> leases = new ArrayList<>();
  private int cursor;

  /** Builds the router for one strategy name, with a table of {@code tableBuckets} buckets. */
  static Router router(String strategy, BackendGroup group, int tableBuckets) {
    switch (strategy) {
      case "source-ip":
      case "weighted":
        return Router.builder(group).strategy(AffinityStrategy.sourceIp()).build();
      case "header":
        return Router.builder(group)
            .strategy(AffinityStrategy.rendezvous(RoutingKey.header(Fixtures.USER_HEADER)))
            .build();
      case "bounded-load":
        return Router.builder(group)
            .strategy(AffinityStrategy.boundedLoad(AffinityStrategy.sourceIp(), 1.25))
            .build();
      case "maglev":
        return Router.builder(group)
            .strategy(
                AffinityStrategy.maglev(
                    RoutingKey.clientIp(dev.affinity.client.ClientAddressResolver.direct())))
            .build();
      case "rendezvous-table":
        return Router.builder(group)
            .strategy(
                AffinityStrategy.sourceIpTable(
                    dev.affinity.client.ClientAddressResolver.direct(), tableBuckets))
            .build();
      case "round-robin":
        return Router.builder(group).fallback(AffinityStrategy.roundRobin()).build();
      case "least-connections":
        return Router.builder(group).fallback(AffinityStrategy.leastConnections()).build();
      case "p2c":
        return Router.builder(group).fallback(AffinityStrategy.powerOfTwoChoices()).build();
      default:
        throw new IllegalArgumentException("strategy: " + strategy);
    }
  }

  @Setup(Level.Trial)
  public void setUp() {
    BackendGroup group = Fixtures.group(backends, strategy.equals("weighted"));
    router = router(strategy, group, tableBuckets);
    requests = Fixtures.requests(Fixtures.addresses(keys, 42));
    if (strategy.equals("bounded-load") || strategy.equals("least-connections")) {
      for (Member m : group.snapshot().members()) {
        for (int i = 0; i < 10; i++) {
          leases.add(group.openConnection(m.backend()));
        }
      }
    }
    for (RoutingRequest r : requests) {
      if (!router.select(r).hasBackend()) {
        throw new IllegalStateException("no backend for " + r);
      }
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    leases.forEach(ConnectionLease::close);
    leases.clear();
  }

  @Benchmark
  public RoutingDecision select() {
    return router.select(requests[cursor++ & Fixtures.MASK]);
  }
}

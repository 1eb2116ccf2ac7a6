package dev.affinity.jmh;

import static java.util.Objects.requireNonNull;

import dev.affinity.RoutingRequest;
import dev.affinity.backend.Membership;
import dev.affinity.client.ClientAddressResolver;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.RoutingKey;
import dev.affinity.strategy.Selection;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Affinity's hash strategies against peer consistent hashes on the same {@value Fixtures#KEYS}
 * client addresses, in one run.
 *
 * <p>The comparison leans towards the peers: they get the key bytes already extracted, while the
 * affinity cases start from the request view (reading the peer address, normalising it, hashing it)
 * and return a {@link Selection}, exactly as the router calls them.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PeerBenchmark {
  @Param({
    "affinity-hrw",
    "affinity-maglev",
    "affinity-hrw-table",
    "guava-jump",
    "hash4j-jumpback",
    "ketama-treemap",
    "ketama-array"
  })
  public String impl;

  @Param({"3", "16", "100", "1000", "10000"})
  public int backends;

  @Param({"ipv4", "ipv6"})
  public String keys;

  /** The rendezvous table's bucket count (the smoke test uses a small one). */
  @Param({"4194304"})
  public int tableBuckets;

  private @Nullable AffinityStrategy affinity;
  private Membership membership;
  private RoutingRequest[] requests;
  private Peers.@Nullable Peer peer;
  private byte[][] keyBytes;
  private String[] ids;
  private int cursor;

  @Setup(Level.Trial)
  public void setUp() {
    InetAddress[] addresses = Fixtures.addresses(keys, 42);
    requests = Fixtures.requests(addresses);
    keyBytes = Fixtures.keyBytes(addresses);
    membership = Fixtures.group(backends, false).snapshot();
    List<String> idList = Fixtures.ids(backends);
    ids = idList.toArray(new String[0]);
    switch (impl) {
      case "affinity-hrw":
        affinity = AffinityStrategy.sourceIp();
        break;
      case "affinity-maglev":
        affinity = AffinityStrategy.maglev(RoutingKey.clientIp(ClientAddressResolver.direct()));
        break;
      case "affinity-hrw-table":
        affinity = AffinityStrategy.sourceIpTable(ClientAddressResolver.direct(), tableBuckets);
        break;
      case "guava-jump":
        peer = Peers.guavaJump(backends);
        break;
      case "hash4j-jumpback":
        peer = Peers.hash4jJumpBack(backends);
        break;
      case "ketama-treemap":
        peer = Peers.ketamaTreeMap(idList);
        break;
      case "ketama-array":
        peer = Peers.ketamaArray(idList);
        break;
      default:
        throw new IllegalArgumentException("impl: " + impl);
    }
    if (affinity != null) {
      affinity.select(requests[0], membership); // builds the per-snapshot state
    }
  }

  @Benchmark
  public @Nullable Object owner() {
    int i = cursor++ & Fixtures.MASK;
    if (affinity != null) {
      return affinity.select(requests[i], membership).member();
    }
    return ids[requireNonNull(peer).bucket(keyBytes[i])];
  }
}

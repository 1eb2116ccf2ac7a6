package dev.affinity.jmh;

import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.SetCookie;
import dev.affinity.backend.BackendGroup;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.CookieAffinity;
import dev.affinity.strategy.CookieKey;
import dev.affinity.strategy.CookieKeys;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Random;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code Router.select} with signed cookie affinity in front of source-IP hashing: a returning
 * client with a valid cookie ({@code valid}: Base64url decode, HMAC-SHA256 verify, tag lookup), and
 * a first visit ({@code first}: the cookie strategy abstains, source IP decides, a cookie is signed
 * and issued).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class CookieBenchmark {
  @Param({"3", "16", "100", "1000"})
  public int backends;

  /**
   * valid: returning clients (verified values cached); valid-uncached: the same with the cache off.
   */
  @Param({"valid", "valid-uncached", "first"})
  public String visit;

  private Router router;
  private RoutingRequest[] requests;
  private int cursor;

  @Setup(Level.Trial)
  public void setUp() {
    byte[] secret = new byte[32];
    new Random(1).nextBytes(secret);
    CookieAffinity config =
        CookieAffinity.builder(CookieKeys.of(CookieKey.of(1, secret)))
            .cacheSize(visit.equals("valid-uncached") ? 0 : CookieAffinity.DEFAULT_CACHE_SIZE)
            .build();
    BackendGroup group = Fixtures.group(backends, false);
    router =
        Router.builder(group)
            .strategy(AffinityStrategy.cookie(config))
            .fallback(AffinityStrategy.sourceIp())
            .build();
    InetAddress[] addresses = Fixtures.addresses("ipv4", 42);
    RoutingRequest[] first = Fixtures.requests(addresses);
    requests = new RoutingRequest[first.length];
    for (int i = 0; i < first.length; i++) {
      SetCookie issued = router.select(first[i]).cookie();
      if (issued == null) {
        throw new IllegalStateException("no cookie issued on a first visit");
      }
      requests[i] =
          visit.equals("first")
              ? first[i]
              : RoutingRequest.builder()
                  .remoteAddress(new InetSocketAddress(addresses[i], 40_000 + i))
                  .method("GET")
                  .path("/ws")
                  .header("Upgrade", "websocket")
                  .cookie(issued.name(), issued.value())
                  .build();
      RoutingDecision d = router.select(requests[i]);
      if (!visit.equals("first") && !d.strategy().equals("cookie")) {
        throw new IllegalStateException("the cookie did not decide: " + d);
      }
    }
  }

  @Benchmark
  public RoutingDecision select() {
    return router.select(requests[cursor++ & Fixtures.MASK]);
  }
}

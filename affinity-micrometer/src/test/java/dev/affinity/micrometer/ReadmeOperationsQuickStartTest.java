package dev.affinity.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.lifecycle.ConnectionLifecycle;
import dev.affinity.lifecycle.HealthChecker;
import dev.affinity.lifecycle.HealthProbe;
import dev.affinity.lifecycle.OutlierDetector;
import dev.affinity.lifecycle.SlowStart;
import dev.affinity.metrics.RoutingStats;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.RoutingKey;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The README's operations quick start, compiled and run; {@link #readme_showsExactlyThisCode} keeps
 * the README's snippet and this method's body identical.
 */
class ReadmeOperationsQuickStartTest {
  static List<AutoCloseable> quickStart(MeterRegistry registry) {
    // spotless:off
    // quickstart:begin
    BackendGroup group = BackendGroup.of(
        Backend.of("ws-1", "127.0.0.1", 9001),
        Backend.of("ws-2", "127.0.0.1", 9002));

    HealthChecker health = HealthChecker.builder(group)     // active checks, own threads
        .probe(HealthProbe.webSocket("/healthz"))           // or HealthProbe.tcp()
        .interval(Duration.ofSeconds(5)).timeout(Duration.ofSeconds(2))
        .fall(3).rise(2)
        .build().start();
    OutlierDetector outliers = OutlierDetector.builder(group) // passive: failures adapters report
        .consecutiveFailures(5).baseEjection(Duration.ofSeconds(30))
        .build();
    SlowStart slowStart = SlowStart.builder(group)          // new and recovered backends ramp up
        .window(Duration.ofMinutes(1))
        .build().start();
    ConnectionLifecycle lifecycle = ConnectionLifecycle.builder(group)
        .drainCloseWindow(Duration.ofSeconds(30))           // spread closes at a drain deadline
        .rehoming(50)                                       // opt-in: close moved keys, 50/s
        .maxLifetime(Duration.ofHours(4), Duration.ofMinutes(30)) // opt-in, jittered
        .build().start();

    Router router = Router.builder(group)
        .strategy(AffinityStrategy.rendezvous(RoutingKey.queryParameter("room")))
        .outlierDetection(outliers)                         // told of connect failures
        .listener(RoutingStats.create())                    // counts decisions and connections
        .build();
    AffinityMetrics.of(router).bindTo(registry);           // affinity.* meters

    // Later: take ws-1 out. Open connections and returning sticky clients stay until
    // the deadline; then the adapters close what is left over the next 30 seconds.
    group.drain("ws-1", Duration.ofMinutes(10));
    // quickstart:end
    // spotless:on
    return List.of(health, outliers, slowStart, lifecycle);
  }

  @Test
  void quickStart_runs_andRegistersTheMeters() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    List<AutoCloseable> running = quickStart(registry);
    try {
      assertThat(registry.get("affinity.backends").tag("state", "draining").gauge().value())
          .isEqualTo(1);
      assertThat(registry.find("affinity.connections.live").gauges()).hasSize(2);
    } finally {
      for (AutoCloseable c : new ArrayList<>(running)) {
        c.close();
      }
    }
  }

  @Test
  void readme_showsExactlyThisCode() throws IOException {
    String readme = Files.readString(Path.of("..", "README.md"));
    String block =
        between(readme, "<!-- quickstart:operations:begin", "<!-- quickstart:operations:end -->");
    block = between(block, "```java\n", "```");
    String source =
        Files.readString(
            Path.of("src/test/java/dev/affinity/micrometer/ReadmeOperationsQuickStartTest.java"));
    String body = between(source, "// quickstart:begin\n", "    // quickstart:end");
    StringBuilder unindented = new StringBuilder();
    for (String line : body.split("\n", -1)) {
      unindented.append(line.startsWith("    ") ? line.substring(4) : line).append('\n');
    }
    String expected = unindented.substring(0, unindented.length() - 1);
    assertThat(expected).isEqualTo(block);
  }

  private static String between(String s, String start, String end) {
    int i = s.indexOf(start);
    assertThat(i).as("marker %s", start).isNotNegative();
    i = s.indexOf('\n', i) + 1;
    if (start.endsWith("\n")) {
      i = s.indexOf(start) + start.length();
    }
    int j = s.indexOf(end, i);
    assertThat(j).as("marker %s", end).isGreaterThan(i);
    return s.substring(i, j);
  }
}

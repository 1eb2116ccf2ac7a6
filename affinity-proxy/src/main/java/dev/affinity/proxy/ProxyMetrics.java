package dev.affinity.proxy;

import dev.affinity.Router;
import dev.affinity.metrics.RoutingStats;
import dev.affinity.micrometer.AffinityMetrics;
import dev.affinity.redis.RedisFleet;
import dev.affinity.strategy.LearnedAffinity;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.jspecify.annotations.Nullable;

/**
 * The proxy's meters in a Prometheus registry: the routing meters of {@link AffinityMetrics}
 * ({@code affinity_*}), the JVM's (memory, GC, threads, classes, CPU, uptime, file descriptors) and
 * the adapter's transport meters ({@link ProxyServer#bindMeters}): Jetty's connections and thread
 * pool, or Netty's buffer allocator; with {@code --redis} and {@code --learn}, the fleet's and the
 * learned store's ({@link FleetMeters}).
 */
final class ProxyMetrics implements AutoCloseable {
  private final PrometheusMeterRegistry registry;
  private final AffinityMetrics affinity;
  private final JvmGcMetrics gc;

  private ProxyMetrics(
      PrometheusMeterRegistry registry, AffinityMetrics affinity, JvmGcMetrics gc) {
    this.registry = registry;
    this.affinity = affinity;
    this.gc = gc;
  }

  /**
   * Binds every meter for {@code router}, whose listeners include {@code stats}; with {@code fleet}
   * and {@code learned}, theirs too ({@link FleetMeters}).
   */
  static ProxyMetrics create(
      Router router,
      RoutingStats stats,
      ProxyServer server,
      @Nullable RedisFleet fleet,
      @Nullable LearnedAffinity learned) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    AffinityMetrics affinity = AffinityMetrics.of(router, stats);
    affinity.bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    server.bindMeters(registry);
    if (fleet != null) {
      FleetMeters.bind(registry, fleet);
    }
    if (learned != null) {
      FleetMeters.bind(registry, learned);
    }
    return new ProxyMetrics(registry, affinity, gc);
  }

  /** Every meter in the Prometheus text exposition format. */
  String scrape() {
    return registry.scrape();
  }

  @Override
  public void close() {
    affinity.close();
    gc.close();
    registry.close();
  }
}

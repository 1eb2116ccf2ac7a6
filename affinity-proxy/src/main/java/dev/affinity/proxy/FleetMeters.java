package dev.affinity.proxy;

import dev.affinity.redis.RedisFleet;
import dev.affinity.redis.RedisLearnedStore;
import dev.affinity.strategy.LearnedAffinity;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import java.util.concurrent.TimeUnit;

/**
 * The fleet's and the learned store's meters ({@code affinity_fleet_*}, {@code
 * affinity_learned_*}), read from {@link RedisFleet#status()} and the learned strategy's counters
 * at scrape time.
 */
final class FleetMeters {
  private FleetMeters() {}

  /** Binds the meters of {@code fleet}: degraded, episodes, agreement, last sync age, version. */
  static void bind(MeterRegistry registry, RedisFleet fleet) {
    Gauge.builder("affinity.fleet.degraded", fleet, f -> f.status().degraded() ? 1 : 0)
        .description("1 while Redis is unreachable (routing on the last known state), else 0")
        .strongReference(true)
        .register(registry);
    FunctionCounter.builder(
            "affinity.fleet.degraded.episodes", fleet, f -> f.status().degradedEpisodes())
        .description("Times this instance lost Redis since it started")
        .register(registry);
    Gauge.builder("affinity.fleet.instances", fleet, f -> f.status().instances())
        .description("Live instances seen at the last heartbeat, this one included")
        .strongReference(true)
        .register(registry);
    Gauge.builder("affinity.fleet.instances.agreeing", fleet, f -> f.status().agreeing())
        .description("Live instances that report this instance's membership fingerprint")
        .strongReference(true)
        .register(registry);
    Gauge.builder("affinity.fleet.agreement", fleet, f -> f.status().agrees() ? 1 : 0)
        .description("1 when every live instance reports the same membership fingerprint")
        .strongReference(true)
        .register(registry);
    TimeGauge.builder(
            "affinity.fleet.last.sync.age",
            fleet,
            TimeUnit.NANOSECONDS,
            f -> f.status().sinceLastSync().toNanos())
        .description("Time since Redis last answered this instance's heartbeat")
        .strongReference(true)
        .register(registry);
    Gauge.builder("affinity.fleet.state.version", fleet, f -> f.status().appliedVersion())
        .description("The version of the shared operator state this instance applied")
        .strongReference(true)
        .register(registry);
  }

  /** Binds the counters of {@code learned}, and its Redis store's budget misses if it has one. */
  static void bind(MeterRegistry registry, LearnedAffinity learned) {
    FunctionCounter.builder(
            "affinity.learned.learn.failures", learned, LearnedAffinity::learnFailures)
        .description("Values not learned from a 101 because the store failed")
        .register(registry);
    FunctionCounter.builder(
            "affinity.learned.lookup.failures", learned, LearnedAffinity::lookupFailures)
        .description("Learned-value lookups the store failed (the next strategy decided)")
        .register(registry);
    if (learned.store() instanceof RedisLearnedStore) {
      FunctionCounter.builder(
              "affinity.learned.lookup.misses",
              (RedisLearnedStore) learned.store(),
              RedisLearnedStore::lookupMisses)
          .description(
              "Lookups answered empty because Redis was unreachable or slower than the budget")
          .register(registry);
    }
  }
}

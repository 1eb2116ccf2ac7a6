package dev.affinity.redis;

import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The Lettuce thread pools every fleet and store in this JVM share (Lettuce recommends one set per
 * process), created on first use. Reconnects back off from 10 ms to at most 1 s, not Lettuce's
 * default 30 s, so an instance re-syncs soon after Redis returns.
 */
final class LettuceResources {
  private LettuceResources() {}

  private static final class Holder {
    static final ClientResources SHARED =
        DefaultClientResources.builder()
            .reconnectDelay(
                Delay.exponential(
                    Duration.ofMillis(10), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
            .build();
  }

  static ClientResources shared() {
    return Holder.SHARED;
  }
}

package dev.affinity.proxy;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.redis.RedisLearnedStore;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.LearnedAffinity;
import dev.affinity.strategy.LearnedCarrier;
import dev.affinity.strategy.LearnedStore;
import io.lettuce.core.RedisURI;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The learned affinity flags: {@code --learn}, {@code --learn-ttl}, {@code --learn-key-file}. The
 * proxy then learns the value a backend sets in its 101 and routes handshakes carrying it back to
 * that backend, before the {@code --strategy} chain; the store is Redis with {@code --redis}, else
 * this process's memory.
 */
final class LearnOptions {
  @Option(
      names = "--learn",
      paramLabel = "cookie:NAME|header:NAME",
      description =
          "Learn the value a backend sets in its 101 (its session cookie, or a header such as a"
              + " room id) and route later handshakes carrying it to that backend, before the"
              + " --strategy chain. Shared through Redis with --redis, else kept in memory.")
  @Nullable String learn;

  @Option(
      names = "--learn-ttl",
      paramLabel = "DURATION",
      defaultValue = "1h",
      converter = Converters.DurationSpec.class,
      description =
          "How long a learned value lives after the last tunnel that carried it closed."
              + " Default: ${DEFAULT-VALUE}.")
  Duration ttl = Duration.ofHours(1);

  @Option(
      names = "--learn-key-file",
      paramLabel = "FILE",
      description =
          "The HMAC key learned values are stored under (at least 16 bytes; the same file on every"
              + " instance). Required with --redis; without it a random key is used.")
  @Nullable Path keyFile;

  /** Whether {@code --learn} was given. */
  boolean enabled() {
    return learn != null;
  }

  /**
   * Checks the flags together.
   *
   * @throws ParameterException naming the flag
   */
  void validate(CommandLine cl, boolean redis) {
    if (learn == null) {
      if (keyFile != null) {
        throw new ParameterException(
            cl, "--learn-key-file without --learn (expected: --learn cookie:NAME or header:NAME)");
      }
      return;
    }
    carrier(cl);
    if (ttl.isNegative() || ttl.toMillis() < 1000) {
      throw new ParameterException(cl, "--learn-ttl: " + ttl + " (expected: at least 1s)");
    }
    if (redis && keyFile == null) {
      throw new ParameterException(
          cl,
          "--learn with --redis: no --learn-key-file (expected: the same key file on every"
              + " instance, or values learned on one are unknown to the others)");
    }
  }

  /** The {@code --learn} carrier. */
  LearnedCarrier carrier(CommandLine cl) {
    String v = String.valueOf(learn).trim();
    int colon = v.indexOf(':');
    String kind = colon < 0 ? "" : v.substring(0, colon).toLowerCase(Locale.ROOT);
    String name = colon < 0 ? "" : v.substring(colon + 1);
    try {
      if (kind.equals("cookie")) {
        return LearnedCarrier.cookie(name);
      }
      if (kind.equals("header")) {
        return LearnedCarrier.header(name);
      }
    } catch (AffinityConfigurationException e) {
      throw new ParameterException(cl, "--learn: " + e.getMessage(), e);
    }
    throw new ParameterException(
        cl, "--learn: '" + learn + "' (expected: cookie:NAME or header:NAME)");
  }

  /** The learned strategy and what to close when the proxy stops (the Redis store), if any. */
  static final class Started {
    final LearnedAffinity learned;
    final @Nullable AutoCloseable store;

    Started(LearnedAffinity learned, @Nullable AutoCloseable store) {
      this.learned = learned;
      this.store = store;
    }
  }

  /**
   * Builds the store and the strategy: Redis at {@code redis} if given, else in memory.
   *
   * @throws ParameterException naming the flag whose value was rejected
   */
  Started start(CommandLine cl, @Nullable RedisURI redis, PrintWriter warnings) {
    LearnedCarrier carrier = carrier(cl);
    byte[] key = key(cl, warnings);
    try {
      if (redis != null) {
        RedisLearnedStore store =
            RedisLearnedStore.builder().redis(redis).hmacKey(key).ttl(ttl).build();
        // Connected before the proxy listens, like the fleet; unreachable, it keeps trying.
        store.connect();
        return new Started(AffinityStrategy.learned(store, carrier), store);
      }
      return new Started(AffinityStrategy.learned(LearnedStore.inMemory(key, ttl), carrier), null);
    } catch (AffinityConfigurationException e) {
      throw new ParameterException(cl, "--learn: " + e.getMessage(), e);
    } finally {
      Arrays.fill(key, (byte) 0);
    }
  }

  private byte[] key(CommandLine cl, PrintWriter warnings) {
    Path file = keyFile;
    if (file == null) {
      warnings.println(
          "affinity-proxy: --learn without --learn-key-file: a random key (values learned now are"
              + " unknown after a restart)");
      byte[] random = new byte[32];
      new SecureRandom().nextBytes(random);
      return random;
    }
    byte[] key;
    try {
      key = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new ParameterException(
          cl,
          "--learn-key-file: " + file + " cannot be read (" + e.getClass().getSimpleName() + ")",
          e);
    }
    int end = key.length;
    while (end > 0 && (key[end - 1] == '\n' || key[end - 1] == '\r')) {
      end--;
    }
    if (end < 16) {
      throw new ParameterException(
          cl, "--learn-key-file: " + file + " holds " + end + " bytes (expected: at least 16)");
    }
    return Arrays.copyOf(key, end);
  }

  @Override
  public String toString() {
    return learn == null ? "off" : "learned(" + learn + ")";
  }
}

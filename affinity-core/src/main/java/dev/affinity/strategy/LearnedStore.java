package dev.affinity.strategy;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.InstantSource;
import org.jspecify.annotations.Nullable;

/**
 * Remembers which backend issued a learned value (see {@link AffinityStrategy#learned}). Stores
 * keep only an HMAC of the value ({@link LearnedValueHasher}), never the value in clear.
 *
 * <p>{@link #inMemory} serves a single proxy instance; {@code affinity-redis} has one that a fleet
 * shares. Implementations must be thread-safe and fast: {@link #lookup} runs on the handshake path
 * and must answer within a small budget (returning null when it cannot), never block longer.
 */
public interface LearnedStore {
  /**
   * The id of the backend that issued {@code value}, or null if unknown, expired, or the store
   * could not answer within its budget (then the next strategy decides).
   */
  @Nullable String lookup(String value);

  /**
   * Records {@code value → backendId} and keeps it alive until the returned hold is closed (the
   * adapter closes it when the tunnel ends); after that it expires after the store's time to live.
   * Holding a value that is already known refreshes it. Never throws for an unreachable store: the
   * hold then does nothing.
   */
  Hold hold(String value, String backendId);

  /** Keeps a learned value alive while a tunnel is open. Closing twice is harmless. */
  interface Hold extends AutoCloseable {
    /** Lets the value's time to live run again. */
    @Override
    void close();
  }

  /**
   * A store in this process's memory: values expire {@code ttl} after the last hold on them closed,
   * by {@code clock}.
   *
   * @param hmacKey the HMAC-SHA256 key values are hashed with (at least 16 bytes)
   * @throws dev.affinity.AffinityConfigurationException if the key is short or the TTL not positive
   */
  static LearnedStore inMemory(byte[] hmacKey, Duration ttl, InstantSource clock) {
    requireNonNull(ttl, "ttl");
    check(!ttl.isNegative() && !ttl.isZero(), "ttl", ttl, "> 0");
    return new InMemoryLearnedStore(
        LearnedValueHasher.hmacSha256(hmacKey), ttl, requireNonNull(clock, "clock"));
  }

  /** {@link #inMemory(byte[], Duration, InstantSource)} on the system clock. */
  static LearnedStore inMemory(byte[] hmacKey, Duration ttl) {
    return inMemory(hmacKey, ttl, InstantSource.system());
  }
}

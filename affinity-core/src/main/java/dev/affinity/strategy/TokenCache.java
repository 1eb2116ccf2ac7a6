package dev.affinity.strategy;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;

/**
 * A bounded, lock-free cache of verified carriers (JWTs for {@link JwtStrategy}, affinity cookie
 * values for {@link CookieStrategy}), each with what verifying it found: a fixed array of exactly
 * {@code size} slots, each entry placed in one of {@value #WAYS} consecutive slots chosen by its
 * hash (a set-associative cache, as in a CPU), a random one of them overwritten when all are taken.
 *
 * <p>Why not an LRU cache: a lookup here is one hash of a token's tail, at most {@value #WAYS}
 * array reads and one {@link String#equals}; it allocates nothing and writes nothing, where an
 * access-ordered cache records every read. What it gives up is recency: a full window evicts at
 * random, not the least recently used entry. That costs a re-verification, never a wrong answer,
 * and at the default size (10,000 slots) a window is full only when thousands of tokens are live.
 *
 * <p>Security: an entry is the exact carrier text (the whole {@code Authorization} value, say) and
 * the index of the source it came from; a lookup matches only the same source and an equal string,
 * so a token that differs anywhere, even one with the same hash, is a miss. Only the caller decides
 * what is inserted (both strategies insert verified values only), and each entry carries the
 * deadline after which {@link #get} no longer returns it. Slots are {@link AtomicReferenceArray}
 * elements holding immutable entries, so racing writers lose an insert at worst (a re-verification)
 * and a reader never sees a half-built entry. {@link #toString} never shows a token.
 */
final class TokenCache<V> {
  /** Slots an entry may live in. */
  static final int WAYS = 4;

  /**
   * Characters of a carrier's tail that are hashed: a JWT ends with its signature, and 16 base64url
   * characters of it are 96 random bits, more than a 32-bit hash can use. Each character costs a
   * step of a serial multiply-add chain, and a select hashes twice (the choice and the re-homing
   * key), so fewer is measurably faster.
   */
  static final int HASHED = 16;

  private final AtomicReferenceArray<@Nullable Entry<V>> slots;
  private final int size;
  private final int ways;

  /**
   * @param size the number of slots, and so the most entries ever held; at least 1
   */
  TokenCache(int size) {
    if (size < 1) {
      throw new IllegalArgumentException("size: " + size + " (expected: >= 1)");
    }
    this.size = size;
    this.ways = Math.min(WAYS, size);
    this.slots = new AtomicReferenceArray<>(size);
  }

  /**
   * The hash of a carrier: of its last {@value #HASHED} characters only. A JWT's tail is its
   * signature, so distinct tokens differ there, and hashing a kilobyte on every lookup would cost
   * more than the lookup. Tokens that share a tail only share a window: equality still compares the
   * whole text.
   */
  static int hash(String carrier) {
    int n = carrier.length();
    int h = 0;
    for (int i = Math.max(0, n - HASHED); i < n; i++) {
      h = 31 * h + carrier.charAt(i);
    }
    return h * 0x9E3779B9; // spreads the bits; the high ones pick the window
  }

  /**
   * The value cached for exactly this source and carrier if its deadline is not before {@code
   * nowMillis}; a matching entry past its deadline is removed. Null otherwise.
   */
  @Nullable V get(int source, String carrier, int hash, long nowMillis) {
    int start = start(hash);
    for (int i = 0; i < ways; i++) {
      int slot = slot(start, i);
      Entry<V> e = slots.get(slot);
      if (e != null && e.hash == hash && e.source == source && e.carrier.equals(carrier)) {
        if (nowMillis <= e.deadlineMillis) {
          return e.value;
        }
        slots.compareAndSet(slot, e, null);
        return null;
      }
    }
    return null;
  }

  /**
   * Caches {@code value} for this source and carrier until {@code deadlineMillis} (inclusive), in a
   * free slot, a slot past its deadline, or else a random slot of its window.
   */
  void put(int source, String carrier, int hash, V value, long deadlineMillis, long nowMillis) {
    Entry<V> entry = new Entry<>(source, carrier, hash, value, deadlineMillis);
    int start = start(hash);
    for (int i = 0; i < ways; i++) {
      int slot = slot(start, i);
      Entry<V> e = slots.get(slot);
      if (e == null
          || e.deadlineMillis < nowMillis
          || (e.hash == hash && e.source == source && e.carrier.equals(carrier))) {
        slots.set(slot, entry);
        return;
      }
    }
    slots.set(slot(start, ThreadLocalRandom.current().nextInt(ways)), entry);
  }

  /** How many slots hold an entry, expired or not; for tests. */
  int occupied() {
    int n = 0;
    for (int i = 0; i < size; i++) {
      if (slots.get(i) != null) {
        n++;
      }
    }
    return n;
  }

  /** The number of slots. */
  int size() {
    return size;
  }

  private int start(int hash) {
    return (int) (((hash & 0xFFFF_FFFFL) * size) >>> 32); // uniform over [0, size), no modulo
  }

  private int slot(int start, int i) {
    int s = start + i;
    return s >= size ? s - size : s;
  }

  /** Never a token. */
  @Override
  public String toString() {
    return "TokenCache{" + size + " slots}";
  }

  private static final class Entry<V> {
    final int source;
    final String carrier;
    final int hash;
    final V value;
    final long deadlineMillis;

    Entry(int source, String carrier, int hash, V value, long deadlineMillis) {
      this.source = source;
      this.carrier = carrier;
      this.hash = hash;
      this.value = value;
      this.deadlineMillis = deadlineMillis;
    }

    /** Never the token. */
    @Override
    public String toString() {
      return "Entry{source " + source + ", " + carrier.length() + " chars}";
    }
  }
}

package dev.affinity.strategy;

import java.time.Duration;
import java.time.InstantSource;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/** {@link LearnedStore#inMemory}: digests in a map, expiring by the injected clock. */
final class InMemoryLearnedStore implements LearnedStore {
  private static final int SWEEP_EVERY = 1024;

  private final LearnedValueHasher hasher;
  private final long ttlMillis;
  private final InstantSource clock;
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();
  private int writes;

  private static final class Entry {
    final String backendId;
    int holds;
    long expiresAt;

    Entry(String backendId) {
      this.backendId = backendId;
    }
  }

  InMemoryLearnedStore(LearnedValueHasher hasher, Duration ttl, InstantSource clock) {
    this.hasher = hasher;
    this.ttlMillis = ttl.toMillis();
    this.clock = clock;
  }

  @Override
  public @Nullable String lookup(String value) {
    Entry e = entries.get(hasher.digest(value));
    if (e == null) {
      return null;
    }
    synchronized (e) {
      return e.holds > 0 || clock.millis() < e.expiresAt ? e.backendId : null;
    }
  }

  @Override
  public Hold hold(String value, String backendId) {
    String digest = hasher.digest(value);
    Entry e =
        entries.compute(
            digest,
            (k, old) -> {
              Entry n = old != null && old.backendId.equals(backendId) ? old : new Entry(backendId);
              // A value issued anew by another backend starts a new entry; the old holds lapse.
              synchronized (n) {
                n.holds++;
              }
              return n;
            });
    if (++writes % SWEEP_EVERY == 0) {
      sweep();
    }
    AtomicBoolean closed = new AtomicBoolean();
    return () -> {
      if (closed.compareAndSet(false, true)) {
        synchronized (e) {
          e.holds = Math.max(0, e.holds - 1);
          e.expiresAt = clock.millis() + ttlMillis;
        }
      }
    };
  }

  private void sweep() {
    long now = clock.millis();
    for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
      Entry e = it.next();
      synchronized (e) {
        if (e.holds == 0 && now >= e.expiresAt) {
          it.remove();
        }
      }
    }
  }

  /** How many values are stored (expired ones not yet swept included); for tests. */
  int size() {
    return entries.size();
  }

  @Override
  public String toString() {
    return "LearnedStore.inMemory(ttl=" + Duration.ofMillis(ttlMillis) + ")";
  }
}

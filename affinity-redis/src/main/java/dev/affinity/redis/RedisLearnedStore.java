package dev.affinity.redis;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.strategy.LearnedStore;
import dev.affinity.strategy.LearnedValueHasher;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SetArgs;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * A {@link LearnedStore} that a fleet shares through Redis: learned values (as HMAC digests, never
 * in clear) map to backend ids under keys that expire after the time to live, refreshed while any
 * instance holds them for an open tunnel.
 *
 * <p><b>Budget.</b> A {@link #lookup} waits at most {@link Builder#lookupBudget} (default {@value
 * #DEFAULT_LOOKUP_BUDGET_MILLIS} ms) for Redis and answers null when Redis is slower or
 * unreachable, so the next strategy decides; while the connection is down it answers null at once.
 * Values this instance holds are answered from memory without asking Redis. Writes never block a
 * handshake.
 *
 * <pre>{@code
 * RedisLearnedStore store = RedisLearnedStore.builder()
 *     .redis("redis://redis.internal:6379")
 *     .hmacKey(secretBytes)             // the same key on every instance
 *     .ttl(Duration.ofHours(1))
 *     .build();
 * LearnedAffinity learned = AffinityStrategy.learned(store, LearnedCarrier.cookie("JSESSIONID"));
 * }</pre>
 */
public final class RedisLearnedStore implements LearnedStore, AutoCloseable {
  /** The default lookup budget in milliseconds. */
  public static final long DEFAULT_LOOKUP_BUDGET_MILLIS = 20;

  private static final System.Logger LOG = System.getLogger(RedisLearnedStore.class.getName());

  private final LearnedValueHasher hasher;
  private final String prefix;
  private final Duration ttl;
  private final Duration lookupBudget;
  private final RedisClient client;
  private final ScheduledExecutorService refresher;
  private final Map<String, Held> held = new ConcurrentHashMap<>();
  private final AtomicLong lookupMisses = new AtomicLong();
  private volatile @Nullable StatefulRedisConnection<String, String> connection;
  private final Object connectLock = new Object();

  private static final class Held {
    final String backendId;
    int holds;

    Held(String backendId) {
      this.backendId = backendId;
    }
  }

  private RedisLearnedStore(Builder b) {
    this.hasher = LearnedValueHasher.hmacSha256(requireNonNull(b.hmacKey, "hmacKey"));
    this.prefix = b.namespace + ":learned:";
    this.ttl = b.ttl;
    this.lookupBudget = b.lookupBudget;
    this.client = RedisClient.create(LettuceResources.shared(), requireNonNull(b.uri, "redis"));
    client.setOptions(
        ClientOptions.builder()
            .autoReconnect(true)
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(1)))
            .build());
    this.refresher =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "affinity-learned-refresh");
              t.setDaemon(true);
              return t;
            });
    long every = Math.max(1, ttl.toMillis() / 3);
    // The store's own executor: close() shuts it down, so the task needs no handle.
    var unused =
        refresher.scheduleWithFixedDelay(this::refreshHeld, every, every, TimeUnit.MILLISECONDS);
  }

  /** Returns a builder. */
  public static Builder builder() {
    return new Builder();
  }

  private @Nullable StatefulRedisConnection<String, String> connection() {
    StatefulRedisConnection<String, String> c = connection;
    if (c != null) {
      return c;
    }
    // Connecting happens off the handshake path.
    refresher.execute(this::connectNow);
    return null;
  }

  private void connectNow() {
    synchronized (connectLock) {
      if (connection == null) {
        try {
          connection = client.connect();
        } catch (RuntimeException e) {
          LOG.log(Level.DEBUG, "learned store: Redis unreachable", e);
        }
      }
    }
  }

  /** Connects now (off any handshake path) and returns whether Redis answered. */
  public boolean connect() {
    connectNow();
    StatefulRedisConnection<String, String> c = connection;
    return c != null && c.isOpen();
  }

  @Override
  public @Nullable String lookup(String value) {
    String digest = hasher.digest(value);
    Held h = held.get(digest);
    if (h != null) {
      return h.backendId;
    }
    StatefulRedisConnection<String, String> c = connection();
    if (c == null || !c.isOpen()) {
      lookupMisses.incrementAndGet();
      return null;
    }
    RedisFuture<String> f = c.async().get(prefix + digest);
    try {
      return f.get(lookupBudget.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      f.cancel(false);
      lookupMisses.incrementAndGet();
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (Exception e) {
      lookupMisses.incrementAndGet();
      return null;
    }
  }

  @Override
  public Hold hold(String value, String backendId) {
    requireNonNull(backendId, "backendId");
    String digest = hasher.digest(value);
    held.compute(
        digest,
        (k, old) -> {
          Held n = old != null && old.backendId.equals(backendId) ? old : new Held(backendId);
          n.holds++;
          return n;
        });
    write(digest, backendId);
    AtomicBoolean closed = new AtomicBoolean();
    return () -> {
      if (closed.compareAndSet(false, true)) {
        held.computeIfPresent(
            digest,
            (k, h) -> {
              if (!h.backendId.equals(backendId)) {
                return h;
              }
              h.holds--;
              return h.holds <= 0 ? null : h;
            });
        write(digest, backendId); // the TTL runs from the last close
      }
    };
  }

  private void write(String digest, String backendId) {
    StatefulRedisConnection<String, String> c = connection();
    if (c == null || !c.isOpen()) {
      return; // the refresher writes it when Redis is back, while it is held
    }
    logFailure(c.async().set(prefix + digest, backendId, SetArgs.Builder.px(ttl.toMillis())));
  }

  /** A failed write is logged; the refresher writes the value again while it is held. */
  private static void logFailure(CompletionStage<?> write) {
    var unused =
        write.whenComplete(
            (ok, e) -> {
              if (e != null) {
                LOG.log(Level.DEBUG, "learned store: write failed: " + e);
              }
            });
  }

  /** Re-writes every held value with a fresh TTL (also after Redis restarted empty). */
  private void refreshHeld() {
    StatefulRedisConnection<String, String> c = connection;
    if (c == null) {
      connectNow();
      c = connection;
    }
    if (c == null || !c.isOpen()) {
      return;
    }
    try {
      for (Map.Entry<String, Held> e : held.entrySet()) {
        logFailure(
            c.async()
                .set(
                    prefix + e.getKey(),
                    e.getValue().backendId,
                    SetArgs.Builder.px(ttl.toMillis())));
      }
    } catch (RuntimeException e) {
      LOG.log(Level.DEBUG, "learned store: refresh failed", e);
    }
  }

  /** Runs one refresh of the held values now (the store does it every third of the TTL). */
  public void refreshNow() {
    refreshHeld();
  }

  /** Lookups answered null because Redis was unreachable or slower than the budget. */
  public long lookupMisses() {
    return lookupMisses.get();
  }

  /** Closes the connection and stops refreshing; held values then expire after the TTL. */
  @Override
  public void close() {
    refresher.shutdownNow();
    synchronized (connectLock) {
      StatefulRedisConnection<String, String> c = connection;
      if (c != null) {
        c.close();
      }
    }
    client.shutdown(Duration.ZERO, Duration.ofMillis(500));
  }

  @Override
  public String toString() {
    return "RedisLearnedStore{ttl=" + ttl + ", lookupBudget=" + lookupBudget + "}";
  }

  /** Configures a {@link RedisLearnedStore}. */
  public static final class Builder {
    private @Nullable RedisURI uri;
    private byte @Nullable [] hmacKey;
    private String namespace = RedisFleet.DEFAULT_NAMESPACE;
    private Duration ttl = Duration.ofHours(1);
    private Duration lookupBudget = Duration.ofMillis(DEFAULT_LOOKUP_BUDGET_MILLIS);

    private Builder() {}

    /**
     * The Redis server: {@code redis://}, {@code rediss://} (TLS), with AUTH in the URI. Required.
     *
     * @throws AffinityConfigurationException if malformed
     */
    public Builder redis(String uri) {
      requireNonNull(uri, "uri");
      try {
        this.uri = RedisURI.create(uri);
      } catch (IllegalArgumentException e) {
        throw new AffinityConfigurationException(
            "redis: '" + uri.replaceAll("//[^@/]*@", "//***@") + "' (expected: redis://host:port)");
      }
      return this;
    }

    /** The Redis server. Required. */
    public Builder redis(RedisURI uri) {
      this.uri = requireNonNull(uri, "uri");
      return this;
    }

    /**
     * The HMAC-SHA256 key learned values are hashed with; the same on every instance. Required.
     *
     * @throws AffinityConfigurationException if shorter than 16 bytes
     */
    public Builder hmacKey(byte[] key) {
      requireNonNull(key, "key");
      check(key.length >= 16, "hmacKey", key.length + " bytes", ">= 16 bytes");
      this.hmacKey = key.clone();
      return this;
    }

    /** The key prefix (default {@value RedisFleet#DEFAULT_NAMESPACE}). */
    public Builder namespace(String namespace) {
      requireNonNull(namespace, "namespace");
      check(
          !namespace.isEmpty() && namespace.chars().noneMatch(Character::isWhitespace),
          "namespace",
          "'" + namespace + "'",
          "a non-empty name without whitespace");
      this.namespace = namespace;
      return this;
    }

    /**
     * How long a value lives after the last tunnel holding it ended (default 1 hour).
     *
     * @throws AffinityConfigurationException if shorter than 3 ms
     */
    public Builder ttl(Duration ttl) {
      requireNonNull(ttl, "ttl");
      check(ttl.toMillis() >= 3, "ttl", ttl, ">= 3ms");
      this.ttl = ttl;
      return this;
    }

    /**
     * The longest a handshake waits for a lookup (default {@value
     * RedisLearnedStore#DEFAULT_LOOKUP_BUDGET_MILLIS} ms).
     *
     * @throws AffinityConfigurationException if not from 1 ms to 1 s
     */
    public Builder lookupBudget(Duration budget) {
      requireNonNull(budget, "budget");
      check(budget.toMillis() >= 1 && budget.toMillis() <= 1000, "lookupBudget", budget, "1ms..1s");
      this.lookupBudget = budget;
      return this;
    }

    /**
     * Builds the store; it connects in the background.
     *
     * @throws AffinityConfigurationException if the Redis URI or the HMAC key is missing
     */
    public RedisLearnedStore build() {
      check(uri != null, "redis", "null", "a redis:// or rediss:// URI");
      check(hmacKey != null, "hmacKey", "null", "a key of >= 16 bytes");
      return new RedisLearnedStore(this);
    }
  }
}

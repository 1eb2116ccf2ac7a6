package dev.affinity.redis;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.UnknownBackendException;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.lang.System.Logger.Level;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * Makes several proxy instances act as one fleet by sharing, through Redis, what they cannot derive
 * on their own: the operator's desired state of the group and the live connection counts.
 *
 * <ul>
 *   <li><b>Shared operator state.</b> Changes made through this class ({@link #add}, {@link
 *       #remove}, {@link #update}, {@link #drain}, {@link #markDown}, {@link #markUp}) are stored
 *       in Redis with a version that grows by one per change and published on a channel; every
 *       instance applies them in version order and never applies an older one. A missed message is
 *       caught up by the next heartbeat, which compares versions. {@link #start()} loads the
 *       current state before it returns, so start the fleet before accepting clients. Health stays
 *       per instance: each instance checks what it can reach, and a fleet change sets only the
 *       administrative state.
 *   <li><b>Fleet-wide counts.</b> Every heartbeat each instance writes its live connections per
 *       backend under a key that expires after {@link Builder#countTtl} (so a dead instance's
 *       counts vanish) and reads the others'; caps, least connections, power of two choices and
 *       bounded load then weigh local exact counts plus the others' last reported ones (see {@link
 *       BackendGroup#otherInstancesConnections}). <b>Overshoot bound:</b> a report is up to one
 *       heartbeat old when another instance reads it, and that instance uses it until its next
 *       heartbeat, so a backend capped at {@code max} holds at most {@code max + (instances - 1) ×
 *       b}, where {@code b} is the most connections one instance accepts for that backend within
 *       two heartbeat intervals (about {@code 2 × (instances - 1) × a} for {@code a} accepted per
 *       heartbeat). Shorten the heartbeat to tighten it.
 *   <li><b>Agreement.</b> Every heartbeat also carries this instance's membership fingerprint;
 *       {@link #status()} says how many live instances agree with it.
 *   <li><b>Fail static.</b> If Redis is unreachable, routing never waits for it: the instance keeps
 *       its last applied state, keeps the others' counts until they would have expired and then
 *       uses its local counts, logs once per episode and reports {@link FleetStatus#degraded()}.
 *       When Redis answers again, the next heartbeat re-syncs with no operator action. Changes
 *       attempted while Redis is away fail with {@link FleetUnavailableException}.
 * </ul>
 *
 * <pre>{@code
 * BackendGroup group = BackendGroup.of(Backend.of("ws-1", "10.0.0.1", 8080));
 * try (RedisFleet fleet = RedisFleet.builder(group)
 *     .redis("rediss://:secret@redis.internal:6379") // TLS and AUTH come from the URI
 *     .instanceId("proxy-a")
 *     .build()) {
 *   fleet.start();                                  // loads the shared state first
 *   fleet.drain("ws-1", Duration.ofMinutes(5));     // every instance stops new placements
 * }
 * }</pre>
 *
 * <p><b>Do not use</b> it to share health: an instance that cannot reach a backend must not be told
 * it is UP. Keys live under a namespace ({@link Builder#namespace}, default {@value
 * #DEFAULT_NAMESPACE}); a standalone Redis (or a primary with replicas) is expected, not a cluster.
 */
public final class RedisFleet implements AutoCloseable {
  /** The default key namespace. */
  public static final String DEFAULT_NAMESPACE = "affinity";

  /** The default heartbeat interval. */
  public static final Duration DEFAULT_HEARTBEAT = Duration.ofMillis(500);

  /** The default Redis command timeout for background work and operator changes. */
  public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(1);

  private static final System.Logger LOG = System.getLogger(RedisFleet.class.getName());

  // Compare-and-set of the desired state: bumps the version, stores the state and publishes both.
  private static final String CAS_SCRIPT =
      """
      local v = tonumber(redis.call('GET', KEYS[1]) or '0')
      if v ~= tonumber(ARGV[1]) then return -1 end
      v = v + 1
      redis.call('SET', KEYS[1], v)
      redis.call('SET', KEYS[2], ARGV[2])
      redis.call('PUBLISH', ARGV[3], v .. '\\n' .. ARGV[2])
      return v
      """;

  // Writes this instance's report with a TTL, registers it, forgets expired instances and returns
  // the others' reports as id, report pairs.
  private static final String HEARTBEAT_SCRIPT =
      """
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      redis.call('SET', ARGV[4] .. ARGV[1], ARGV[2], 'PX', ARGV[3])
      redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
      redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
      local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
      local out = {}
      for _, id in ipairs(ids) do
        if id ~= ARGV[1] then
          local p = redis.call('GET', ARGV[4] .. id)
          if p then table.insert(out, id); table.insert(out, p) end
        end
      end
      return out
      """;

  // After Redis lost its data (restarted empty, failed over to a stale replica), the instance that
  // has applied the newest state writes it back; a lower or missing version is replaced.
  private static final String SEED_SCRIPT =
      """
      local v = tonumber(redis.call('GET', KEYS[1]) or '0')
      if v >= tonumber(ARGV[1]) then return 0 end
      redis.call('SET', KEYS[1], ARGV[1])
      redis.call('SET', KEYS[2], ARGV[2])
      redis.call('PUBLISH', ARGV[3], ARGV[1] .. '\\n' .. ARGV[2])
      return 1
      """;

  private static final int CAS_ATTEMPTS = 16;

  private final BackendGroup group;
  private final RedisURI uri;
  private final String instanceId;
  private final Duration heartbeat;
  private final Duration countTtl;
  private final Duration commandTimeout;
  private final InstantSource clock;
  private final boolean ownScheduler;
  private final ScheduledExecutorService scheduler;
  private final String versionKey;
  private final String stateKey;
  private final String channel;
  private final String instancesKey;
  private final String instancePrefix;

  private final Object applyLock = new Object();
  private final Object connectLock = new Object();
  private @Nullable RedisClient client;
  private volatile @Nullable StatefulRedisConnection<String, String> connection;
  private volatile @Nullable StatefulRedisPubSubConnection<String, String> pubSub;
  private volatile DesiredState applied = DesiredState.EMPTY;
  private volatile boolean degraded;
  private final AtomicLong degradedEpisodes = new AtomicLong();
  private volatile int instances = 1;
  private volatile int agreeing = 1;
  private volatile long lastHeartbeatNanos = System.nanoTime();
  private volatile boolean othersCleared = true;
  private volatile boolean closed;
  private volatile @Nullable ScheduledFuture<?> heartbeating;

  private RedisFleet(Builder b) {
    this.group = b.group;
    this.uri = requireNonNull(b.uri, "redis");
    this.instanceId = b.instanceId;
    this.heartbeat = b.heartbeat;
    this.countTtl = b.ttl();
    this.commandTimeout = b.commandTimeout;
    this.clock = b.clock;
    this.ownScheduler = b.scheduler == null;
    this.scheduler =
        b.scheduler != null
            ? b.scheduler
            : Executors.newSingleThreadScheduledExecutor(
                r -> {
                  Thread t = new Thread(r, "affinity-fleet-" + b.instanceId);
                  t.setDaemon(true);
                  return t;
                });
    String ns = b.namespace;
    this.versionKey = ns + ":state:version";
    this.stateKey = ns + ":state";
    this.channel = ns + ":state:changes";
    this.instancesKey = ns + ":instances";
    this.instancePrefix = ns + ":instance:";
  }

  /** Returns a builder for a fleet that shares the state of {@code group}. */
  public static Builder builder(BackendGroup group) {
    return new Builder(requireNonNull(group, "group"));
  }

  /**
   * Connects, loads and applies the shared state, and starts the heartbeat. Call it before the
   * proxy accepts clients. If Redis cannot be reached within the command timeout, the instance
   * starts degraded on its configured state (fail static) and keeps trying at every heartbeat.
   *
   * @return whether the shared state was loaded
   */
  public boolean start() {
    boolean loaded = tick();
    if (!heartbeat.isZero()) {
      long ms = heartbeat.toMillis();
      heartbeating = scheduler.scheduleWithFixedDelay(this::tick, ms, ms, TimeUnit.MILLISECONDS);
    }
    return loaded;
  }

  /**
   * One heartbeat, run by the fleet's scheduler every interval: connects if needed, catches up with
   * the shared state, reports this instance's counts and fingerprint and reads the others'. Tests
   * may call it directly (with a zero heartbeat, nothing else does). Never throws.
   *
   * @return whether Redis answered
   */
  public boolean tick() {
    if (closed) {
      return false;
    }
    try {
      StatefulRedisConnection<String, String> c = connect();
      catchUp(c);
      report(c);
      lastHeartbeatNanos = System.nanoTime();
      if (degraded) {
        degraded = false;
        LOG.log(Level.INFO, "fleet " + instanceId + ": Redis is back; re-synced");
      }
      return true;
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      failed(e);
      return false;
    }
  }

  private void failed(Exception e) {
    if (!degraded) {
      degraded = true;
      degradedEpisodes.incrementAndGet();
      LOG.log(
          Level.WARNING,
          "fleet "
              + instanceId
              + ": Redis unreachable ("
              + e
              + "); routing on the last known state and local counts");
    }
    // Keep the others' counts while they would still be live in Redis, then count only our own.
    if (!othersCleared && System.nanoTime() - lastHeartbeatNanos > countTtl.toNanos()) {
      group.otherInstancesConnections(Map.of());
      othersCleared = true;
      instances = 1;
      agreeing = 1;
    }
  }

  private StatefulRedisConnection<String, String> connect() {
    StatefulRedisConnection<String, String> c = connection;
    if (c != null) {
      return c;
    }
    synchronized (connectLock) {
      if (connection != null) {
        return connection;
      }
      RedisClient rc = client;
      if (rc == null) {
        rc = RedisClient.create(LettuceResources.shared(), uri);
        rc.setOptions(
            ClientOptions.builder()
                .autoReconnect(true)
                // Fail fast while disconnected: nothing queues up behind a dead Redis.
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                .build());
        client = rc;
      }
      StatefulRedisConnection<String, String> conn = rc.connect(uri);
      try {
        StatefulRedisPubSubConnection<String, String> ps = rc.connectPubSub(uri);
        ps.addListener(
            new RedisPubSubAdapter<String, String>() {
              @Override
              public void message(String ch, String message) {
                if (ch.equals(channel)) {
                  onPublished(message);
                }
              }
            });
        pubSub = ps;
        ps.sync().subscribe(channel);
      } catch (RuntimeException e) {
        conn.close();
        StatefulRedisPubSubConnection<String, String> ps = pubSub;
        if (ps != null) {
          ps.close();
          pubSub = null;
        }
        throw e;
      }
      connection = conn;
      return conn;
    }
  }

  private void onPublished(String message) {
    int nl = message.indexOf('\n');
    try {
      long version = Long.parseLong(message.substring(0, nl));
      DesiredState state = DesiredState.decode(version, message.substring(nl + 1));
      scheduler.execute(() -> apply(state));
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "fleet " + instanceId + ": ignored a malformed state message", e);
    }
  }

  private void catchUp(StatefulRedisConnection<String, String> c) throws Exception {
    String v = await(c.async().get(versionKey));
    long version = v == null ? 0 : Long.parseLong(v);
    DesiredState mine = applied;
    if (version > mine.version) {
      apply(load(c));
    } else if (version < mine.version) {
      Long seeded =
          await(
              c.async()
                  .eval(
                      SEED_SCRIPT,
                      ScriptOutputType.INTEGER,
                      new String[] {versionKey, stateKey},
                      Long.toString(mine.version),
                      mine.encode(),
                      channel));
      if (seeded != null && seeded == 1) {
        LOG.log(
            Level.INFO,
            "fleet "
                + instanceId
                + ": Redis had an older state; wrote back version "
                + mine.version);
      }
    }
  }

  private DesiredState load(StatefulRedisConnection<String, String> c) throws Exception {
    List<io.lettuce.core.KeyValue<String, String>> kv = await(c.async().mget(versionKey, stateKey));
    long version = kv.get(0).hasValue() ? Long.parseLong(kv.get(0).getValue()) : 0;
    String text = kv.get(1).hasValue() ? kv.get(1).getValue() : "";
    return DesiredState.decode(version, text);
  }

  private void report(StatefulRedisConnection<String, String> c) throws Exception {
    Membership snapshot = group.snapshot();
    StringBuilder payload = new StringBuilder();
    payload.append(snapshot.fingerprint()).append('\n').append(applied.version).append('\n');
    group
        .liveConnections()
        .forEach(
            (id, n) -> {
              if (n > 0) {
                payload.append(enc(id)).append('=').append(n).append('\n');
              }
            });
    List<Object> out =
        await(
            c.async()
                .eval(
                    HEARTBEAT_SCRIPT,
                    ScriptOutputType.MULTI,
                    new String[] {instancesKey},
                    instanceId,
                    payload.toString(),
                    Long.toString(countTtl.toMillis()),
                    instancePrefix));
    Map<String, Integer> others = new HashMap<>();
    int seen = 1;
    int same = 1;
    for (int i = 0; i + 1 < out.size(); i += 2) {
      String report = String.valueOf(out.get(i + 1));
      String[] lines = report.split("\n", -1);
      seen++;
      if (lines[0].equals(snapshot.fingerprint())) {
        same++;
      }
      for (int l = 2; l < lines.length; l++) {
        int eq = lines[l].indexOf('=');
        if (eq > 0) {
          others.merge(
              dec(lines[l].substring(0, eq)),
              Integer.parseInt(lines[l].substring(eq + 1)),
              Integer::sum);
        }
      }
    }
    group.otherInstancesConnections(others);
    othersCleared = false;
    instances = seen;
    agreeing = same;
  }

  /** Applies {@code next} if it is newer than what this instance has applied. */
  private void apply(DesiredState next) {
    synchronized (applyLock) {
      if (next.version <= applied.version) {
        return;
      }
      for (DesiredState.Entry e : next.entries.values()) {
        DesiredState.Entry before = applied.entries.get(e.backend.id());
        if (e.equals(before) && matches(group.snapshot().member(e.backend.id()), e)) {
          continue;
        }
        try {
          applyEntry(e);
        } catch (RuntimeException ex) {
          LOG.log(Level.WARNING, "fleet " + instanceId + ": could not apply " + e, ex);
        }
      }
      applied = next;
      LOG.log(Level.DEBUG, () -> "fleet " + instanceId + ": applied version " + next.version);
    }
  }

  private static boolean matches(@Nullable Member m, DesiredState.Entry e) {
    if (e.removed()) {
      return m == null;
    }
    return m != null
        && m.backend().equals(e.backend)
        && m.adminState() == e.state
        && deadlineMillis(m) == e.drainDeadlineMillis;
  }

  private static long deadlineMillis(Member m) {
    Instant d = m.drainDeadline();
    return d == null ? -1 : d.toEpochMilli();
  }

  private void applyEntry(DesiredState.Entry e) {
    String id = e.backend.id();
    Member m = group.snapshot().member(id);
    if (e.removed()) {
      if (m != null) {
        group.remove(id);
      }
      return;
    }
    if (m == null) {
      group.add(e.backend);
    } else if (!m.backend().equals(e.backend)) {
      group.update(e.backend);
    }
    m = group.snapshot().member(id);
    BackendState want = requireNonNull(e.state, "state");
    switch (want) {
      case UP:
        group.markUp(id);
        break;
      case DOWN:
        group.markDown(id);
        break;
      case DRAINING:
      default:
        if (m != null
            && m.adminState() == BackendState.DRAINING
            && deadlineMillis(m) == e.drainDeadlineMillis) {
          break;
        }
        if (e.drainDeadlineMillis < 0) {
          group.drain(id);
        } else {
          group.drainUntil(id, Instant.ofEpochMilli(e.drainDeadlineMillis));
        }
        break;
    }
  }

  // ---- operator changes ----

  /**
   * Adds a backend on every instance, UP.
   *
   * @throws AffinityConfigurationException if the backend is already a member here or in the shared
   *     state
   * @throws FleetUnavailableException if Redis is unreachable
   */
  public void add(Backend backend) {
    requireNonNull(backend, "backend");
    change(
        backend.id(),
        (old) -> {
          check(
              (old == null || old.removed()) && group.snapshot().member(backend.id()) == null,
              "backend",
              backend.id(),
              "an id not already in the group");
          return new DesiredState.Entry(backend, BackendState.UP, -1);
        });
  }

  /**
   * Removes a backend on every instance. Open connections stay until they end.
   *
   * @throws UnknownBackendException if the backend is neither a member here nor in the shared state
   * @throws FleetUnavailableException if Redis is unreachable
   */
  public void remove(String id) {
    change(id, old -> new DesiredState.Entry(base(id, old), null, -1));
  }

  /**
   * Replaces a backend (address, weight, cap, metadata) on every instance, keeping its state.
   *
   * @throws UnknownBackendException if the backend is neither a member here nor in the shared state
   * @throws FleetUnavailableException if Redis is unreachable
   */
  public void update(Backend backend) {
    requireNonNull(backend, "backend");
    change(
        backend.id(),
        old -> {
          base(backend.id(), old);
          return new DesiredState.Entry(
              backend, state(backend.id(), old), old == null ? -1 : old.drainDeadlineMillis);
        });
  }

  /**
   * Marks a backend UP on every instance (administrative state; health stays per instance).
   *
   * @throws UnknownBackendException if the backend is neither a member here nor in the shared state
   * @throws FleetUnavailableException if Redis is unreachable
   */
  public void markUp(String id) {
    change(id, old -> new DesiredState.Entry(base(id, old), BackendState.UP, -1));
  }

  /**
   * Marks a backend DOWN on every instance.
   *
   * @throws UnknownBackendException if the backend is neither a member here nor in the shared state
   * @throws FleetUnavailableException if Redis is unreachable
   */
  public void markDown(String id) {
    change(id, old -> new DesiredState.Entry(base(id, old), BackendState.DOWN, -1));
  }

  /**
   * Drains a backend on every instance until {@code now + deadline} (by this instance's clock; the
   * deadline is shared as an absolute time, so keep instance clocks in sync).
   *
   * @throws UnknownBackendException if the backend is neither a member here nor in the shared state
   * @throws AffinityConfigurationException if the deadline is negative
   * @throws FleetUnavailableException if Redis is unreachable
   */
  public void drain(String id, Duration deadline) {
    requireNonNull(deadline, "deadline");
    check(!deadline.isNegative(), "deadline", deadline, ">= 0");
    long at = clock.instant().plus(deadline).toEpochMilli();
    change(id, old -> new DesiredState.Entry(base(id, old), BackendState.DRAINING, at));
  }

  /**
   * Drains a backend on every instance with no deadline.
   *
   * @throws UnknownBackendException if the backend is neither a member here nor in the shared state
   * @throws FleetUnavailableException if Redis is unreachable
   */
  public void drain(String id) {
    change(id, old -> new DesiredState.Entry(base(id, old), BackendState.DRAINING, -1));
  }

  private Backend base(String id, DesiredState.@Nullable Entry old) {
    Member m = group.snapshot().member(id);
    if (m != null) {
      return m.backend();
    }
    if (old != null && !old.removed()) {
      return old.backend;
    }
    throw new UnknownBackendException(id);
  }

  private BackendState state(String id, DesiredState.@Nullable Entry old) {
    if (old != null && old.state != null) {
      return old.state;
    }
    Member m = group.snapshot().member(id);
    return m == null ? BackendState.UP : m.adminState();
  }

  private void change(String id, UnaryOperator<DesiredState.@Nullable Entry> edit) {
    requireNonNull(id, "id");
    try {
      StatefulRedisConnection<String, String> c = connect();
      for (int attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        DesiredState current = load(c);
        DesiredState next = current.with(requireNonNull(edit.apply(current.entries.get(id))));
        Long v =
            await(
                c.async()
                    .eval(
                        CAS_SCRIPT,
                        ScriptOutputType.INTEGER,
                        new String[] {versionKey, stateKey},
                        Long.toString(current.version),
                        next.encode(),
                        channel));
        if (v != null && v > 0) {
          apply(new DesiredState(v, next.entries));
          return;
        }
      }
      throw new FleetUnavailableException(
          "fleet change to " + id + " lost " + CAS_ATTEMPTS + " races in a row; try again",
          new IllegalStateException("contention"));
    } catch (RuntimeException e) {
      if (e instanceof dev.affinity.AffinityException) {
        throw e;
      }
      failed(e);
      throw new FleetUnavailableException("fleet change to " + id + ": Redis unreachable", e);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      failed(e);
      throw new FleetUnavailableException("fleet change to " + id + ": Redis unreachable", e);
    }
  }

  private <T> T await(io.lettuce.core.RedisFuture<T> f)
      throws InterruptedException, ExecutionException, TimeoutException {
    return f.get(commandTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String dec(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  /** This instance's view of the fleet right now. */
  public FleetStatus status() {
    return new FleetStatus(
        instanceId,
        degraded,
        degradedEpisodes.get(),
        applied.version,
        instances,
        agreeing,
        group.snapshot().fingerprint(),
        Duration.ofNanos(System.nanoTime() - lastHeartbeatNanos));
  }

  /** This instance's id in the fleet. */
  public String instanceId() {
    return instanceId;
  }

  /** The group this fleet keeps in step. */
  public BackendGroup group() {
    return group;
  }

  /**
   * Stops the heartbeat and closes the Redis connections. This instance's counts expire from Redis
   * after the count TTL. The group keeps its state.
   */
  @Override
  public void close() {
    closed = true;
    ScheduledFuture<?> h = heartbeating;
    if (h != null) { // a given scheduler keeps running: stop our task on it
      h.cancel(false);
    }
    if (ownScheduler) {
      scheduler.shutdownNow();
    }
    synchronized (connectLock) {
      StatefulRedisPubSubConnection<String, String> ps = pubSub;
      if (ps != null) {
        ps.close();
      }
      StatefulRedisConnection<String, String> c = connection;
      if (c != null) {
        c.close();
      }
      RedisClient rc = client;
      if (rc != null) {
        rc.shutdown(Duration.ZERO, Duration.ofMillis(500));
      }
    }
  }

  @Override
  public String toString() {
    return "RedisFleet{" + instanceId + ", " + uri.getHost() + ":" + uri.getPort() + "}";
  }

  /** Configures a {@link RedisFleet}; every setter validates, {@link #build()} checks the rest. */
  public static final class Builder {
    private final BackendGroup group;
    private @Nullable RedisURI uri;
    private String namespace = DEFAULT_NAMESPACE;
    private String instanceId = randomId();
    private Duration heartbeat = DEFAULT_HEARTBEAT;
    private @Nullable Duration countTtl;
    private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
    private InstantSource clock = InstantSource.system();
    private @Nullable ScheduledExecutorService scheduler;

    private Builder(BackendGroup group) {
      this.group = group;
    }

    /**
     * The Redis server, as a Lettuce URI: {@code redis://host:port}, {@code rediss://} for TLS,
     * {@code redis://user:password@host} or {@code redis://:password@host} for AUTH, {@code /n} for
     * a database number. Required.
     *
     * @throws AffinityConfigurationException if the URI is malformed
     */
    public Builder redis(String uri) {
      requireNonNull(uri, "uri");
      try {
        return redis(RedisURI.create(uri));
      } catch (IllegalArgumentException e) {
        throw new AffinityConfigurationException(
            "redis: '" + redact(uri) + "' (expected: redis://host:port or rediss://host:port)");
      }
    }

    /** The Redis server. Required. */
    public Builder redis(RedisURI uri) {
      this.uri = requireNonNull(uri, "uri");
      return this;
    }

    /**
     * The prefix of every key and channel, so several fleets can share one Redis. Default {@value
     * #DEFAULT_NAMESPACE}.
     *
     * @throws AffinityConfigurationException if blank or containing whitespace
     */
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
     * This instance's id in the fleet (default: random). Use a stable name such as the pod name, so
     * a restarted instance replaces its own counts.
     *
     * @throws AffinityConfigurationException if empty or containing whitespace
     */
    public Builder instanceId(String instanceId) {
      requireNonNull(instanceId, "instanceId");
      check(
          !instanceId.isEmpty() && instanceId.chars().noneMatch(Character::isWhitespace),
          "instanceId",
          "'" + instanceId + "'",
          "a non-empty name without whitespace");
      this.instanceId = instanceId;
      return this;
    }

    /**
     * How often counts are reported and the shared state is checked (default 500 ms). {@link
     * Duration#ZERO} runs no heartbeat: the caller drives {@link RedisFleet#tick()} (tests).
     *
     * @throws AffinityConfigurationException if negative
     */
    public Builder heartbeat(Duration heartbeat) {
      requireNonNull(heartbeat, "heartbeat");
      check(!heartbeat.isNegative(), "heartbeat", heartbeat, ">= 0");
      this.heartbeat = heartbeat;
      return this;
    }

    /**
     * How long an instance's reported counts live in Redis without a new heartbeat (default three
     * heartbeats).
     *
     * @throws AffinityConfigurationException if not positive
     */
    public Builder countTtl(Duration countTtl) {
      requireNonNull(countTtl, "countTtl");
      check(
          !countTtl.isNegative() && !countTtl.isZero() && countTtl.toMillis() > 0,
          "countTtl",
          countTtl,
          ">= 1ms");
      this.countTtl = countTtl;
      return this;
    }

    /**
     * How long a background Redis command or an operator change may take (default 1 s). Routing
     * never waits for these.
     *
     * @throws AffinityConfigurationException if not positive
     */
    public Builder commandTimeout(Duration commandTimeout) {
      requireNonNull(commandTimeout, "commandTimeout");
      check(commandTimeout.toMillis() > 0, "commandTimeout", commandTimeout, ">= 1ms");
      this.commandTimeout = commandTimeout;
      return this;
    }

    /** The clock for drain deadlines (default: the system clock). */
    public Builder clock(InstantSource clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The executor that runs heartbeats and applies published changes (default: one daemon thread
     * of the fleet's own, shut down by {@link RedisFleet#close()}).
     */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * Builds the fleet; nothing connects until {@link RedisFleet#start()}.
     *
     * @throws AffinityConfigurationException if no Redis URI was given, or the count TTL is not
     *     longer than the heartbeat
     */
    public RedisFleet build() {
      check(uri != null, "redis", "null", "a redis:// or rediss:// URI");
      Duration ttl = ttl();
      check(
          heartbeat.isZero() || ttl.compareTo(heartbeat) > 0,
          "countTtl",
          ttl,
          "longer than the heartbeat " + heartbeat);
      return new RedisFleet(this);
    }

    private Duration ttl() {
      if (countTtl != null) {
        return countTtl;
      }
      return (heartbeat.isZero() ? DEFAULT_HEARTBEAT : heartbeat).multipliedBy(3);
    }

    private static String randomId() {
      byte[] b = new byte[6];
      new SecureRandom().nextBytes(b);
      return "instance-" + HexFormat.of().formatHex(b);
    }

    private static String redact(String uri) {
      int at = uri.indexOf('@');
      int scheme = uri.indexOf("://");
      return at > 0 && scheme > 0 ? uri.substring(0, scheme + 3) + "***" + uri.substring(at) : uri;
    }
  }
}

package dev.affinity.discovery;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.Member;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Keeps a {@link BackendGroup} in step with a {@link BackendSource} (DNS or a file): every interval
 * it reads the source, adds the backends that appeared, updates the ones whose address or weight
 * changed, and takes out the ones that disappeared <i>through drain</i>: a vanished backend is
 * {@linkplain BackendGroup#drain(String, Duration) drained} with the configured deadline at once,
 * and removed as soon as its last connection closes or the deadline passes (checked every
 * interval). A backend that comes back while draining is marked up again. A source that cannot be
 * read changes nothing (the group routes on what it had).
 *
 * <p>It manages only the backends it added: members configured some other way (flags, an admin API)
 * are never drained or removed by it.
 *
 * <pre>{@code
 * BackendGroup group = BackendGroup.create();
 * DiscoveredMembership dns = DiscoveredMembership.builder(group,
 *         BackendSource.dns("chat.default.svc.cluster.local", 8080))
 *     .interval(Duration.ofSeconds(5))
 *     .drainDeadline(Duration.ofMinutes(2))
 *     .build();
 * dns.start(); // first refresh before it returns
 * }</pre>
 */
public final class DiscoveredMembership implements AutoCloseable {
  /** The default refresh interval. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);

  /** The default drain deadline for backends that disappear. */
  public static final Duration DEFAULT_DRAIN_DEADLINE = Duration.ofMinutes(1);

  private static final System.Logger LOG = System.getLogger(DiscoveredMembership.class.getName());

  private final BackendGroup group;
  private final BackendSource source;
  private final Duration interval;
  private final Duration drainDeadline;
  private final InstantSource clock;
  private final @Nullable ScheduledExecutorService givenScheduler;
  private @Nullable ScheduledExecutorService ownScheduler;
  private @Nullable ScheduledFuture<?> refreshing;
  private final Set<String> managed = new HashSet<>();
  private final Map<String, Instant> leaving = new HashMap<>();
  private boolean failing;

  private DiscoveredMembership(Builder b) {
    this.group = b.group;
    this.source = b.source;
    this.interval = b.interval;
    this.drainDeadline = b.drainDeadline;
    this.clock = b.clock != null ? b.clock : b.group.clock();
    this.givenScheduler = b.scheduler;
  }

  /** Returns a builder keeping {@code group} in step with {@code source}. */
  public static Builder builder(BackendGroup group, BackendSource source) {
    return new Builder(requireNonNull(group, "group"), requireNonNull(source, "source"));
  }

  /**
   * Refreshes once (so the group holds the discovered backends before the proxy accepts clients),
   * then every interval on the scheduler.
   *
   * @return whether the first refresh could read the source
   */
  public boolean start() {
    boolean ok = refresh();
    ScheduledExecutorService s = givenScheduler;
    if (s == null) {
      s =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "affinity-discovery");
                t.setDaemon(true);
                return t;
              });
      ownScheduler = s;
    }
    long ms = interval.toMillis();
    refreshing = s.scheduleWithFixedDelay(this::refresh, ms, ms, TimeUnit.MILLISECONDS);
    return ok;
  }

  /**
   * Reads the source once and applies it. Never throws.
   *
   * @return whether the source could be read
   */
  public synchronized boolean refresh() {
    List<Backend> found;
    try {
      found = source.backends();
    } catch (IOException | RuntimeException e) {
      if (!failing) {
        failing = true;
        LOG.log(Level.WARNING, source + " could not be read; membership unchanged: " + e);
      }
      return false;
    }
    if (failing) {
      failing = false;
      LOG.log(Level.INFO, source + " readable again");
    }
    Map<String, Backend> wanted = new LinkedHashMap<>();
    for (Backend b : found) {
      wanted.putIfAbsent(b.id(), b);
    }
    for (Backend b : wanted.values()) {
      try {
        Member m = group.snapshot().member(b.id());
        if (m == null) {
          group.add(b);
          managed.add(b.id());
        } else if (managed.contains(b.id())) {
          if (!m.backend().equals(b)) {
            group.update(b);
          }
          if (leaving.remove(b.id()) != null && m.adminState() == BackendState.DRAINING) {
            group.markUp(b.id());
          }
        }
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "could not add discovered backend " + b, e);
      }
    }
    Instant now = clock.instant();
    for (String id : List.copyOf(managed)) {
      if (wanted.containsKey(id)) {
        continue;
      }
      Member m = group.snapshot().member(id);
      if (m == null) { // removed by someone else
        managed.remove(id);
        leaving.remove(id);
        continue;
      }
      Instant deadline = leaving.get(id);
      if (deadline == null) {
        deadline = now.plus(drainDeadline);
        leaving.put(id, deadline);
        group.drain(id, drainDeadline);
      }
      if (m.liveConnections() == 0 || !now.isBefore(deadline)) {
        group.remove(id);
        managed.remove(id);
        leaving.remove(id);
      }
    }
    return true;
  }

  /** Stops refreshing. The group keeps its members. */
  @Override
  public void close() {
    ScheduledFuture<?> r = refreshing;
    if (r != null) { // a given scheduler keeps running: stop our task on it
      r.cancel(false);
    }
    ScheduledExecutorService s = ownScheduler;
    if (s != null) {
      s.shutdownNow();
    }
  }

  @Override
  public String toString() {
    return "DiscoveredMembership{" + source + ", every " + interval + "}";
  }

  /** Configures a {@link DiscoveredMembership}. */
  public static final class Builder {
    private final BackendGroup group;
    private final BackendSource source;
    private Duration interval = DEFAULT_INTERVAL;
    private Duration drainDeadline = DEFAULT_DRAIN_DEADLINE;
    private @Nullable InstantSource clock;
    private @Nullable ScheduledExecutorService scheduler;

    private Builder(BackendGroup group, BackendSource source) {
      this.group = group;
      this.source = source;
    }

    /**
     * How often the source is read (default 5 s).
     *
     * @throws dev.affinity.AffinityConfigurationException if under 10 ms
     */
    public Builder interval(Duration interval) {
      requireNonNull(interval, "interval");
      check(interval.toMillis() >= 10, "interval", interval, ">= 10ms");
      this.interval = interval;
      return this;
    }

    /**
     * How long a vanished backend drains before it is removed with connections still open (default
     * 1 minute).
     *
     * @throws dev.affinity.AffinityConfigurationException if negative
     */
    public Builder drainDeadline(Duration drainDeadline) {
      requireNonNull(drainDeadline, "drainDeadline");
      check(!drainDeadline.isNegative(), "drainDeadline", drainDeadline, ">= 0");
      this.drainDeadline = drainDeadline;
      return this;
    }

    /** The clock for drain deadlines; default (and best) the group's clock. */
    public Builder clock(InstantSource clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /** The scheduler that runs refreshes (default: a daemon thread of its own). */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = requireNonNull(scheduler, "scheduler");
      return this;
    }

    /** Builds it; nothing runs until {@link DiscoveredMembership#start()}. */
    public DiscoveredMembership build() {
      return new DiscoveredMembership(this);
    }
  }
}

package dev.affinity.micrometer;

import static java.util.Objects.requireNonNull;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.Outcome;
import dev.affinity.Router;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.backend.MembershipListener;
import dev.affinity.metrics.RoutingStats;
import dev.affinity.strategy.AffinityStrategy;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;

/**
 * Publishes a router's metrics to Micrometer, following Micrometer's naming conventions (dotted
 * lowercase names, base units, tags for dimensions):
 *
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>name</th><th>type</th><th>tags</th><th>what</th></tr>
 *   <tr><td>{@code affinity.decisions}</td><td>counter</td><td>{@code outcome}</td>
 *       <td>decisions by outcome: {@code affinity_hit}, {@code first_assignment}, {@code
 *       failover}, {@code spill_over}, {@code no_backend}, {@code rejected}</td></tr>
 *   <tr><td>{@code affinity.connections.live}</td><td>gauge</td><td>{@code backend}</td>
 *       <td>open connections per backend (exact: counted by leases)</td></tr>
 *   <tr><td>{@code affinity.connections.opened}</td><td>counter</td><td>{@code backend}</td>
 *       <td>connections opened per backend</td></tr>
 *   <tr><td>{@code affinity.connect.failures}</td><td>counter</td><td>{@code backend}</td>
 *       <td>connect or handshake failures reported by the adapter</td></tr>
 *   <tr><td>{@code affinity.backend.transitions}</td><td>counter</td><td>{@code from},
 *       {@code to}</td><td>state changes, health included ({@code none} = added or
 *       removed)</td></tr>
 *   <tr><td>{@code affinity.backends}</td><td>gauge</td><td>{@code state}</td>
 *       <td>members per state</td></tr>
 *   <tr><td>{@code affinity.strategy.failures}</td><td>counter</td><td>{@code strategy}</td>
 *       <td>strategies that threw</td></tr>
 *   <tr><td>{@code affinity.membership.version}</td><td>gauge</td><td></td>
 *       <td>the membership snapshot version</td></tr>
 *   <tr><td>{@code affinity.membership.fingerprint}</td><td>gauge (always 1)</td>
 *       <td>{@code fingerprint}</td><td>the membership fingerprint as a tag: alert when proxy
 *       instances report different values</td></tr>
 * </table>
 *
 * <pre>{@code
 * Router router = Router.builder(group).listener(RoutingStats.create()).build();
 * AffinityMetrics.of(router).bindTo(registry);
 * }</pre>
 *
 * <p>Counters read the router's {@link RoutingStats} ({@link Router#stats()}) when the registry
 * publishes; nothing here runs on the routing path. Per-backend meters follow the membership: added
 * with a backend, removed with it. {@link #close()} stops following.
 */
public final class AffinityMetrics implements MeterBinder, AutoCloseable {
  private static final String[] STATE_TAGS = {"up", "draining", "down", "none"};

  private final Router router;
  private final BackendGroup group;
  private final RoutingStats stats;
  private final Tags tags;
  private final List<Bound> bound = new CopyOnWriteArrayList<>();
  private final MembershipListener listener = (previous, current) -> follow(current);

  private AffinityMetrics(Router router, RoutingStats stats, Tags tags) {
    this.router = router;
    this.group = router.group();
    this.stats = stats;
    this.tags = tags;
  }

  /**
   * Returns a binder for {@code router}, whose counters read the {@link RoutingStats} registered
   * with it as a listener ({@link Router#stats()}): the stats are registered once.
   *
   * @throws AffinityConfigurationException if the router has no {@link RoutingStats} listener
   */
  public static AffinityMetrics of(Router router) {
    return of(router, Tags.empty());
  }

  /**
   * Like {@link #of(Router)}, adding {@code tags} (such as the proxy name).
   *
   * @throws AffinityConfigurationException if the router has no {@link RoutingStats} listener
   */
  public static AffinityMetrics of(Router router, Iterable<Tag> tags) {
    requireNonNull(router, "router");
    RoutingStats stats = router.stats();
    if (stats == null) {
      throw new AffinityConfigurationException(
          "router: "
              + router
              + " (expected: a router with a RoutingStats listener:"
              + " Router.builder(group).listener(RoutingStats.create()))");
    }
    return of(router, stats, tags);
  }

  /**
   * Returns a binder for {@code router} reading {@code stats}, which must be registered with the
   * router as a listener; without it the counters stay at zero. Prefer {@link #of(Router)}, which
   * reads the stats the router holds, so that they are registered once.
   */
  public static AffinityMetrics of(Router router, RoutingStats stats) {
    return of(router, stats, Tags.empty());
  }

  /**
   * Like {@link #of(Router, RoutingStats)}, adding {@code tags} (such as the proxy name). Prefer
   * {@link #of(Router, Iterable)}.
   */
  public static AffinityMetrics of(Router router, RoutingStats stats, Iterable<Tag> tags) {
    return new AffinityMetrics(
        requireNonNull(router, "router"),
        requireNonNull(stats, "stats"),
        Tags.of(requireNonNull(tags, "tags")));
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    requireNonNull(registry, "registry");
    Bound b = new Bound(registry);
    for (Outcome o : Outcome.values()) {
      FunctionCounter.builder("affinity.decisions", stats, s -> s.decisions(o))
          .description("Routing decisions by outcome")
          .tags(tags)
          .tag("outcome", o.name().toLowerCase(Locale.ROOT))
          .register(registry);
    }
    BackendState[] states = BackendState.values();
    for (int from = 0; from <= states.length; from++) {
      for (int to = 0; to <= states.length; to++) {
        if (from == to) {
          continue;
        }
        BackendState f = from == states.length ? null : states[from];
        BackendState t = to == states.length ? null : states[to];
        FunctionCounter.builder("affinity.backend.transitions", stats, s -> s.transitions(f, t))
            .description("Backend state changes, health included; none = added or removed")
            .tags(tags)
            .tag("from", STATE_TAGS[from])
            .tag("to", STATE_TAGS[to])
            .register(registry);
      }
    }
    for (BackendState s : states) {
      Gauge.builder("affinity.backends", group, g -> count(g.snapshot(), s))
          .description("Members of the backend group by state")
          .tags(tags)
          .tag("state", s.name().toLowerCase(Locale.ROOT))
          .register(registry);
    }
    Set<String> names = new LinkedHashSet<>();
    for (AffinityStrategy s : router.strategies()) {
      names.add(s.name());
    }
    names.add(router.fallback().name());
    for (String name : names) {
      FunctionCounter.builder(
              "affinity.strategy.failures", stats, s -> s.strategyFailures().getOrDefault(name, 0L))
          .description("Strategy calls that threw and were treated as abstaining")
          .tags(tags)
          .tag("strategy", name)
          .register(registry);
    }
    Gauge.builder("affinity.membership.version", group, g -> g.snapshot().version())
        .description("Version of the membership snapshot routing reads")
        .tags(tags)
        .register(registry);
    if (bound.isEmpty()) {
      group.addListener(listener);
    }
    bound.add(b);
    b.follow(group.snapshot());
  }

  private static double count(Membership m, BackendState state) {
    int n = 0;
    for (Member member : m.members()) {
      if (member.state() == state) {
        n++;
      }
    }
    return n;
  }

  private void follow(Membership current) {
    for (Bound b : bound) {
      b.follow(current);
    }
  }

  /** Stops following membership changes; meters already registered stay. */
  @Override
  public void close() {
    group.removeListener(listener);
  }

  @Override
  public String toString() {
    return "AffinityMetrics{" + router + ", tags=" + tags + "}";
  }

  /** The meters of one registry that follow the membership. */
  private final class Bound {
    final MeterRegistry registry;
    final Map<String, List<Meter>> perBackend = new HashMap<>();
    @Nullable Meter fingerprint;

    Bound(MeterRegistry registry) {
      this.registry = registry;
    }

    synchronized void follow(Membership m) {
      for (Member member : m.members()) {
        perBackend.computeIfAbsent(member.id(), this::register);
      }
      for (String id : new ArrayList<>(perBackend.keySet())) {
        if (m.member(id) == null) {
          List<Meter> meters = perBackend.remove(id);
          if (meters != null) {
            meters.forEach(registry::remove);
          }
        }
      }
      Meter old = fingerprint;
      String fp = m.fingerprint();
      if (old == null || !fp.equals(old.getId().getTag("fingerprint"))) {
        if (old != null) {
          registry.remove(old);
        }
        fingerprint =
            Gauge.builder("affinity.membership.fingerprint", () -> 1)
                .description("Always 1; the fingerprint tag identifies the membership view")
                .tags(tags)
                .tag("fingerprint", fp)
                .register(registry);
      }
    }

    private List<Meter> register(String id) {
      List<Meter> meters = new ArrayList<>();
      meters.add(
          Gauge.builder("affinity.connections.live", group, g -> g.liveConnections(id))
              .description("Open connections to the backend")
              .baseUnit("connections")
              .tags(tags)
              .tag("backend", id)
              .register(registry));
      meters.add(
          FunctionCounter.builder(
                  "affinity.connections.opened", stats, s -> s.connectionsOpened(id))
              .description("Connections opened to the backend")
              .baseUnit("connections")
              .tags(tags)
              .tag("backend", id)
              .register(registry));
      meters.add(
          FunctionCounter.builder("affinity.connect.failures", stats, s -> s.connectFailures(id))
              .description("Connect or handshake failures reported for the backend")
              .tags(tags)
              .tag("backend", id)
              .register(registry));
      return meters;
    }
  }
}

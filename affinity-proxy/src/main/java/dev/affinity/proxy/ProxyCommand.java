package dev.affinity.proxy;

import static java.util.Objects.requireNonNull;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.Router;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.Member;
import dev.affinity.client.ClientAddressResolver;
import dev.affinity.client.ForwardedHeader;
import dev.affinity.lifecycle.HealthChecker;
import dev.affinity.lifecycle.HealthProbe;
import dev.affinity.metrics.RoutingStats;
import dev.affinity.redis.RedisFleet;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.LearnedAffinity;
import dev.affinity.strategy.RoutingKey;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code affinity-proxy} command: its flags, their validation, and starting the proxy (and in
 * demo mode the backends and the page) from them. Built only from the public API of affinity-core
 * and the adapters.
 */
@Command(
    name = "affinity-proxy",
    mixinStandardHelpOptions = true,
    versionProvider = ProxyCommand.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    headerHeading = "%n",
    header = "A sticky WebSocket proxy on affinity: handshake first, then tunnel.",
    synopsisHeading = "%nUsage: ",
    customSynopsis = "affinity-proxy [OPTION]... [@CONFIG-FILE]...",
    descriptionHeading = "%n",
    description = {
      "Routes each WebSocket handshake to a backend chosen by the strategy chain, relays the"
          + " backend's 101 (adding the affinity cookie) and then tunnels bytes both ways.",
      "affinity-examples.jar adds a demo: without --backend it starts three embedded backends,"
          + " the proxy, and a page on 127.0.0.1 that shows which backend the browser is on.",
      "Flags may also come from a file: put one flag per line in proxy.conf (# starts a comment)"
          + " and run affinity-proxy @proxy.conf."
    },
    optionListHeading = "%nOptions:%n",
    footerHeading = "%nExamples:%n",
    footer = {
      "  java -jar affinity-examples.jar          # the demo",
      "  java -jar affinity-proxy.jar --listen 0.0.0.0:8080 \\",
      "      --backend id=ws-1,uri=ws://10.0.0.1:9000 \\",
      "      --backend id=ws-2,uri=ws://10.0.0.2:9000,weight=2 \\",
      "      --strategy cookie,source-ip --cookie-secret-file cookie.key \\",
      "      --trusted-proxy 10.0.0.0/8",
      "",
      "Exit status: 2 for a bad flag, 1 if the proxy cannot start. SIGTERM or Ctrl-C stop it"
          + " gracefully (the JVM then exits with 143 or 130)."
    })
public final class ProxyCommand implements Callable<Integer> {
  private static final System.Logger LOG = System.getLogger(ProxyCommand.class.getName());

  /** The default listen address. */
  static final String DEFAULT_LISTEN = "127.0.0.1:8080";

  @Spec CommandSpec spec;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "A YAML file whose keys are these flags without dashes (backends: as a list of {id, uri,"
              + " weight}); flags given here override it. SIGHUP or POST /reload on the admin API"
              + " re-read it and apply backend changes without dropping tunnels.")
  @Nullable Path config;

  @Option(
      names = "--demo",
      description =
          "Run the demo: three embedded backends, the proxy and the demo page. The default when no"
              + " --backend is given.")
  boolean demo;

  @Option(
      names = {"-l", "--listen"},
      paramLabel = "HOST:PORT",
      defaultValue = DEFAULT_LISTEN,
      converter = Converters.ListenAddress.class,
      description = "Where the proxy listens; port 0 picks a free one. Default: ${DEFAULT-VALUE}.")
  InetSocketAddress listen;

  @Option(
      names = {"-b", "--backend"},
      paramLabel = "id=ID,uri=ws://HOST:PORT[,weight=N][,max-connections=N]",
      converter = Converters.BackendSpec.class,
      description =
          "A backend (repeat for each). The id is its affinity identity: keep it stable across"
              + " restarts and moves.")
  List<Backend> backends = new ArrayList<>();

  @Option(
      names = {"-s", "--strategy"},
      paramLabel = "LIST",
      split = ",",
      defaultValue = "cookie,source-ip",
      converter = Converters.StrategySpecs.class,
      description =
          "The strategy chain, asked in order, comma-separated: cookie, jwt, source-ip,"
              + " header:NAME, query:NAME, path:N. Default: ${DEFAULT-VALUE}.")
  List<StrategySpec> strategies;

  @Option(
      names = "--fallback",
      paramLabel = "NAME",
      defaultValue = "least-connections",
      converter = Converters.FallbackSpec.class,
      description =
          "The first pick when every strategy abstains: least-connections, round-robin or"
              + " power-of-two-choices. Default: ${DEFAULT-VALUE}.")
  Fallback fallback;

  @Option(
      names = "--bounded-load",
      paramLabel = "FACTOR",
      description =
          "Wrap the hash strategies (source-ip, header:, query:, path:) in bounded load: no backend"
              + " above FACTOR x the average (at least 1.0, e.g. 1.25).")
  @Nullable Double boundedLoad;

  @Option(
      names = "--hash",
      paramLabel = "rendezvous|rendezvous-table|maglev",
      defaultValue = "rendezvous",
      converter = Converters.HashSpec.class,
      description =
          "How the hash strategies map keys to backends: rendezvous (exact minimal disruption),"
              + " rendezvous-table (the same exact minimal disruption at one array read, for"
              + " hundreds to thousands of backends) or maglev (a lookup table that also moves"
              + " about 1% of other keys on each change). Default: ${DEFAULT-VALUE}.")
  HashKind hash;

  @Option(
      names = "--server",
      paramLabel = "netty|jetty",
      defaultValue = "netty",
      converter = Converters.ServerSpec.class,
      description = "Which adapter runs the proxy. Default: ${DEFAULT-VALUE}.")
  ServerKind server;

  @ArgGroup(validate = false, heading = "%nThe cookie strategy:%n")
  CookieOptions cookie = new CookieOptions();

  @ArgGroup(validate = false, heading = "%nThe jwt strategy:%n")
  JwtOptions jwt = new JwtOptions();

  @ArgGroup(validate = false, heading = "%nRunning as a fleet, discovered backends:%n")
  FleetOptions fleet = new FleetOptions();

  @ArgGroup(validate = false, heading = "%nLearned affinity (the backend's own session id):%n")
  LearnOptions learn = new LearnOptions();

  @Option(
      names = "--trusted-proxy",
      paramLabel = "CIDR",
      split = ",",
      description =
          "A proxy range whose forwarded headers are believed (repeatable), e.g. 10.0.0.0/8."
              + " Without one, the TCP peer is the client.")
  List<String> trustedProxies = new ArrayList<>();

  @Option(
      names = "--forwarded-header",
      paramLabel = "NAME",
      defaultValue = "x-forwarded-for",
      converter = Converters.ForwardedHeaderSpec.class,
      description =
          "The header the trusted proxies write: x-forwarded-for, forwarded (RFC 7239) or none."
              + " Default: ${DEFAULT-VALUE}.")
  ForwardedHeader forwardedHeader;

  @Option(
      names = "--proxy-protocol",
      description =
          "Connections start with a PROXY protocol v1/v2 header (behind an L4 load balancer such as"
              + " HAProxy or AWS NLB); its source address is believed from trusted proxies only.")
  boolean proxyProtocol;

  @Option(
      names = "--ipv6-prefix",
      paramLabel = "BITS",
      defaultValue = "128",
      description =
          "Group IPv6 clients by this prefix for source-ip (64 keeps a subscriber"
              + " together). Default: ${DEFAULT-VALUE}.")
  int ipv6Prefix;

  @Option(
      names = "--health-check",
      paramLabel = "none|tcp|ws:PATH",
      defaultValue = "none",
      description =
          "Active health checks of every backend: a TCP connect, or a WebSocket handshake on PATH"
              + " (ws:/healthz); DOWN after 3 failures, UP after 2 successes. Default:"
              + " ${DEFAULT-VALUE}.")
  String healthCheck;

  @Option(
      names = "--health-interval",
      paramLabel = "DURATION",
      defaultValue = "5s",
      converter = Converters.DurationSpec.class,
      description = "Time between two probes of a backend. Default: ${DEFAULT-VALUE}.")
  Duration healthInterval;

  @Option(
      names = "--connect-timeout",
      paramLabel = "DURATION",
      defaultValue = "5s",
      converter = Converters.DurationSpec.class,
      description = "TCP connect to a backend, then the next candidate. Default: ${DEFAULT-VALUE}.")
  Duration connectTimeout;

  @Option(
      names = "--handshake-timeout",
      paramLabel = "DURATION",
      defaultValue = "10s",
      converter = Converters.DurationSpec.class,
      description = "A backend's answer to the upgrade request. Default: ${DEFAULT-VALUE}.")
  Duration handshakeTimeout;

  @Option(
      names = "--idle-timeout",
      paramLabel = "DURATION",
      defaultValue = "1h",
      converter = Converters.DurationSpec.class,
      description =
          "A tunnel that carries no bytes this long is closed. Default: ${DEFAULT-VALUE}.")
  Duration idleTimeout;

  @Option(
      names = "--shutdown-timeout",
      paramLabel = "DURATION",
      defaultValue = "10s",
      converter = Converters.DurationSpec.class,
      description =
          "On SIGTERM, how long open tunnels get before they are closed. Default:"
              + " ${DEFAULT-VALUE}.")
  Duration shutdownTimeout;

  @Option(
      names = "--access-log",
      paramLabel = "logfmt|json|off",
      defaultValue = "logfmt",
      description =
          "One line per handshake (client, strategy, outcome, backend, status) on the logger"
              + " dev.affinity.proxy.access. Default: ${DEFAULT-VALUE}.")
  AccessLog.Format accessLog;

  @Option(
      names = "--log-level",
      paramLabel = "error|warn|info|debug|trace",
      defaultValue = "info",
      description =
          "The JDK logging level of the proxy's own log lines. Default: ${DEFAULT-VALUE}.")
  LogLevel logLevel;

  @Option(
      names = "--tls-cert",
      paramLabel = "PATH",
      description =
          "Listen for wss:// with this PEM certificate chain (leaf first), with --tls-key. TLS 1.2"
              + " and 1.3, ALPN http/1.1. A renewed file is served from the next handshake"
              + " (checked every second, and on reload); open tunnels are untouched.")
  @Nullable Path tlsCert;

  @Option(
      names = "--tls-key",
      paramLabel = "PATH",
      description = "The PEM PKCS#8 private key (BEGIN PRIVATE KEY) of --tls-cert.")
  @Nullable Path tlsKey;

  @Option(
      names = "--backend-ca",
      paramLabel = "PATH",
      description =
          "PEM CA certificates that wss:// backends are verified against (with their host name)."
              + " Default: the JVM's trust store.")
  @Nullable Path backendCa;

  @Option(
      names = "--admin",
      paramLabel = "HOST:PORT",
      converter = Converters.ListenAddress.class,
      description =
          "Serve the admin API and /metrics here (off by default), e.g. 127.0.0.1:9090. Needs"
              + " --admin-token-file or --admin-token-env.")
  @Nullable InetSocketAddress admin;

  @Option(
      names = "--admin-token-file",
      paramLabel = "PATH",
      description =
          "The admin API's bearer tokens, one NAME:TOKEN per line (at least 16 characters each);"
              + " the name is what the audit log shows.")
  @Nullable Path adminTokenFile;

  @Option(
      names = "--admin-token-env",
      paramLabel = "VAR",
      description = "An environment variable holding the admin API's bearer token.")
  @Nullable String adminTokenEnv;

  @Option(
      names = "--demo-page",
      paramLabel = "HOST:PORT",
      defaultValue = "127.0.0.1:8081",
      converter = Converters.ListenAddress.class,
      description = "Demo mode: where the page listens (loopback only). Default: ${DEFAULT-VALUE}.")
  InetSocketAddress demoPage;

  private final Function<String, @Nullable String> environment;
  // The running listener, for reload (TLS files); set by start.
  private volatile @Nullable ProxyServer listener;
  // The access log of the router buildRouter made last: the adapters report answers and closes.
  private @Nullable AccessLog access;
  // The cookie and JWT strategies of that router, in --strategy order: a reload swaps their keys.
  private List<KeyedStrategy> keyed = List.of();
  private final @Nullable DemoMode demoMode;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final RoutingStats stats = RoutingStats.create();
  // What learns from backends' 101s (--learn), set by start before the router is built.
  private @Nullable LearnedAffinity learned;

  /** The arguments as given, without the configuration file's: reload re-applies them on top. */
  List<String> commandLineArgs = List.of();

  /** A command without a demo, reading secrets from the process environment. */
  public ProxyCommand() {
    this(System::getenv, null);
  }

  /**
   * A command that runs {@code demoMode} when no {@code --backend} is given, reading secrets from
   * the process environment.
   */
  public ProxyCommand(DemoMode demoMode) {
    this(System::getenv, requireNonNull(demoMode, "demoMode"));
  }

  /** A command without a demo that reads secrets from {@code environment}: tests pass a map. */
  ProxyCommand(Function<String, @Nullable String> environment) {
    this(environment, null);
  }

  ProxyCommand(Function<String, @Nullable String> environment, @Nullable DemoMode demoMode) {
    this.environment = requireNonNull(environment, "environment");
    this.demoMode = demoMode;
  }

  /** Whether this command carries a demo (and so the {@code --demo} flags). */
  boolean hasDemo() {
    return demoMode != null;
  }

  /** Operator changes through the fleet with {@code --redis}, else to this group only. */
  private static OperatorChanges operatorChanges(
      BackendGroup group, List<AutoCloseable> fleetParts) {
    RedisFleet f = FleetOptions.fleetIn(fleetParts);
    return f == null ? OperatorChanges.local(group) : OperatorChanges.fleet(f);
  }

  /** Whether the demo runs: there is one, and it is asked for or no backend is given. */
  boolean isDemo() {
    return demoMode != null && (demo || (backends.isEmpty() && !fleet.discovers()));
  }

  /**
   * Checks the flags that only make sense together.
   *
   * @throws ParameterException naming the flag
   */
  void validate() {
    CommandLine cl = spec.commandLine();
    if (demo && !backends.isEmpty()) {
      throw new ParameterException(
          cl, "--demo starts its own backends (expected: no --backend with --demo)");
    }
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new ParameterException(
          cl,
          (tlsCert == null ? "--tls-key" : "--tls-cert")
              + " given alone (expected: --tls-cert and --tls-key together)");
    }
    cookie.validate(cl);
    learn.validate(cl, fleet.redis != null);
    jwt.validate(cl, strategies.stream().anyMatch(s -> s.kind() == StrategySpec.Kind.JWT));
    Set<String> ids = new HashSet<>();
    for (Backend b : backends) {
      if (!ids.add(b.id())) {
        throw new ParameterException(
            cl, "--backend: id " + b.id() + " given twice (expected: one --backend per id)");
      }
    }
    if (admin != null && (adminTokenFile == null) == (adminTokenEnv == null)) {
      throw new ParameterException(
          cl,
          "--admin: "
              + (adminTokenFile == null ? "no token" : "two tokens")
              + " (expected: exactly one of --admin-token-file and --admin-token-env)");
    }
    if (admin == null && (adminTokenFile != null || adminTokenEnv != null)) {
      throw new ParameterException(
          cl, "--admin-token-file/--admin-token-env without --admin (expected: --admin HOST:PORT)");
    }
    if (strategies.isEmpty()) {
      throw new ParameterException(
          cl, "--strategy: empty (expected: " + StrategySpec.EXPECTED + ")");
    }
    if (boundedLoad != null && strategies.stream().noneMatch(s -> s.kind().isHash())) {
      throw new ParameterException(
          cl,
          "--bounded-load: no hash strategy to wrap (expected: source-ip, header:, query: or path:"
              + " in --strategy)");
    }
    if (boundedLoad != null && hash == HashKind.MAGLEV) {
      throw new ParameterException(
          cl,
          "--bounded-load with --hash maglev (expected: --hash rendezvous or rendezvous-table,"
              + " which it wraps)");
    }
    if (strategies.stream().map(StrategySpec::toString).distinct().count() != strategies.size()) {
      throw new ParameterException(
          cl, "--strategy: " + strategies + " (expected: each strategy once)");
    }
  }

  /**
   * Builds the router over {@code group} from the flags.
   *
   * @param warnings where to say that the cookie secret is a random one
   * @throws ParameterException naming the flag whose value core rejected
   */
  Router buildRouter(BackendGroup group, PrintWriter warnings) {
    CommandLine cl = spec.commandLine();
    Router.Builder rb = Router.builder(group);
    ClientAddressResolver.Builder clients = ClientAddressResolver.builder();
    try {
      clients.trustedProxies(trustedProxies.toArray(new String[0]));
    } catch (AffinityConfigurationException e) {
      throw new ParameterException(cl, "--trusted-proxy: " + e.getMessage(), e);
    }
    try {
      clients.ipv6PrefixLength(ipv6Prefix);
    } catch (AffinityConfigurationException e) {
      throw new ParameterException(cl, "--ipv6-prefix: " + e.getMessage(), e);
    }
    ClientAddressResolver resolver = clients.forwardedHeader(forwardedHeader).build();
    List<KeyedStrategy> keyedNow = new ArrayList<>();
    LearnedAffinity l = learned;
    if (l != null) {
      rb.strategy(l); // first: a value the backend issued outranks every hash
    }
    for (StrategySpec s : strategies) {
      AffinityStrategy strategy;
      switch (s.kind()) {
        case COOKIE:
          strategy = AffinityStrategy.cookie(cookie.build(cl, environment, !isDemo(), warnings));
          if (cookie.secretFile != null || cookie.secretEnv != null) {
            // A secret from a file or the environment: a reload may rotate it. (A random one is
            // never replaced, or every reload would void the cookies issued so far.)
            KeyedStrategy cookieStrategy = new KeyedStrategy(strategy);
            keyedNow.add(cookieStrategy);
            strategy = cookieStrategy;
          }
          break;
        case SOURCE_IP:
          switch (hash) {
            case MAGLEV:
              strategy = AffinityStrategy.maglev(RoutingKey.clientIp(resolver));
              break;
            case RENDEZVOUS_TABLE:
              strategy = AffinityStrategy.sourceIpTable(resolver);
              break;
            case RENDEZVOUS:
            default:
              strategy = AffinityStrategy.sourceIp(resolver);
          }
          break;
        case HEADER:
          strategy = hashed(RoutingKey.header(requireNonNull(s.argument(), "argument")));
          break;
        case QUERY:
          strategy = hashed(RoutingKey.queryParameter(requireNonNull(s.argument(), "argument")));
          break;
        case PATH:
          strategy =
              hashed(
                  RoutingKey.pathSegment(
                      Integer.parseInt(requireNonNull(s.argument(), "argument"))));
          break;
        case JWT:
        default:
          KeyedStrategy jwtStrategy =
              new KeyedStrategy(AffinityStrategy.jwt(jwt.build(cl, environment)));
          keyedNow.add(jwtStrategy);
          strategy = jwtStrategy;
          break;
      }
      if (boundedLoad != null && s.kind().isHash()) {
        try {
          strategy = AffinityStrategy.boundedLoad(strategy, boundedLoad);
        } catch (AffinityConfigurationException e) {
          throw new ParameterException(cl, "--bounded-load: " + e.getMessage(), e);
        }
      }
      rb.strategy(strategy);
    }
    AccessLog access = new AccessLog(accessLog, resolver, Clock.systemUTC(), System::nanoTime);
    this.access = access;
    this.keyed = List.copyOf(keyedNow);
    return rb.listener(stats).listener(access).fallback(fallback.create()).build();
  }

  /**
   * The probe {@code --health-check} names, or null for none.
   *
   * @throws ParameterException for anything else
   */
  @Nullable HealthProbe healthProbe() {
    String h = healthCheck.trim();
    if (h.equalsIgnoreCase("none")) {
      return null;
    }
    if (h.equalsIgnoreCase("tcp")) {
      return HealthProbe.tcp();
    }
    if (h.toLowerCase(java.util.Locale.ROOT).startsWith("ws:") && h.length() > 3) {
      try {
        return HealthProbe.webSocket(h.substring(3));
      } catch (AffinityConfigurationException e) {
        throw new ParameterException(spec.commandLine(), "--health-check: " + e.getMessage(), e);
      }
    }
    throw new ParameterException(
        spec.commandLine(), "--health-check: '" + h + "' (expected: none, tcp or ws:PATH)");
  }

  ProxyTimeouts timeouts() {
    return new ProxyTimeouts(connectTimeout, handshakeTimeout, idleTimeout, shutdownTimeout);
  }

  /**
   * Starts everything the flags ask for and returns a handle that stops it.
   *
   * @throws ParameterException for a bad flag
   */
  public Running start(PrintWriter out, PrintWriter err) {
    validate();
    if (backends.isEmpty() && !isDemo() && !fleet.discovers()) {
      throw new ParameterException(
          spec.commandLine(),
          "--backend: none given (expected: at least one --backend id=ID,uri=ws://HOST:PORT)");
    }
    DemoMode.Session demoParts = null;
    ProxyServer proxy = null;
    HealthChecker checker = null;
    List<AutoCloseable> fleetParts = new ArrayList<>();
    HealthProbe probe = healthProbe();
    AdminTokens adminTokens = adminTokens();
    ProxyMetrics metrics = null;
    AdminServer adminServer = null;
    try {
      List<Backend> members = backends;
      if (isDemo()) {
        demoParts = requireNonNull(demoMode, "demoMode").start(cookie.name);
        members = demoParts.backends();
      }
      BackendGroup group;
      try {
        group = BackendGroup.of(members);
      } catch (AffinityConfigurationException e) {
        throw new ParameterException(spec.commandLine(), "--backend: " + e.getMessage(), e);
      }
      if (learn.enabled()) {
        LearnOptions.Started started =
            learn.start(
                spec.commandLine(),
                fleet.redis == null ? null : fleet.redisUri(spec.commandLine()),
                err);
        if (started.store != null) {
          fleetParts.add(started.store);
        }
        learned = started.learned;
      }
      Router router = buildRouter(group, err);
      if (probe != null) {
        try {
          checker =
              HealthChecker.builder(group)
                  .probe(probe)
                  .interval(healthInterval)
                  .timeout(
                      healthInterval.compareTo(connectTimeout) < 0
                          ? healthInterval
                          : connectTimeout)
                  .build()
                  .start();
        } catch (AffinityConfigurationException e) {
          throw new ParameterException(
              spec.commandLine(), "--health-interval: " + e.getMessage(), e);
        }
      }
      // The shared state and the discovered backends are in the group before clients come.
      fleetParts.addAll(fleet.start(group, spec.commandLine(), out));
      try {
        proxy =
            ProxyServers.start(
                server,
                router,
                listen,
                timeouts(),
                proxyProtocol,
                trustedProxies,
                new ProxyTls(tlsCert, tlsKey, backendCa),
                requireNonNull(access, "access"),
                learned);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage(), e);
      }
      listener = proxy;
      String proxyUrl =
          (proxy.secure() ? "wss://" : "ws://")
              + hostForUrl(proxy.address())
              + ":"
              + proxy.address().getPort()
              + "/";
      out.println(
          "affinity-proxy: "
              + server.flagValue()
              + " proxy listening on "
              + proxyUrl
              + " (transport "
              + proxy.transport()
              + ")");
      for (Backend b : members) {
        out.println(
            "affinity-proxy: backend "
                + b.id()
                + ("wss".equals(b.metadata().get("scheme")) ? " wss://" : " ws://")
                + b.host()
                + ":"
                + b.port()
                + " weight "
                + b.weight());
      }
      out.println(
          "affinity-proxy: strategies "
              + (learned == null ? "" : learn + " -> ")
              + strategies.stream().map(StrategySpec::toString).collect(Collectors.joining(" -> "))
              + " -> fallback "
              + fallback);
      if (admin != null) {
        metrics =
            ProxyMetrics.create(router, stats, proxy, FleetOptions.fleetIn(fleetParts), learned);
        adminServer =
            AdminServer.start(
                admin,
                requireNonNull(adminTokens, "adminTokens"),
                group,
                operatorChanges(group, fleetParts),
                metrics::scrape,
                config == null ? null : () -> reload(group));
        out.println(
            "affinity-proxy: admin API on http://"
                + hostForUrl(adminServer.address())
                + ":"
                + adminServer.address().getPort()
                + "/ (tokens "
                + String.join(", ", adminTokens.names())
                + ")");
      }
      String page = null;
      if (demoParts != null) {
        page = demoParts.startPage(demoPage, group, proxyUrl + "demo", server.flagValue());
        out.println("affinity-proxy: demo page " + page + "  <- open this in a browser");
      }
      out.flush();
      return new Running(
          proxy,
          group,
          checker,
          fleetParts,
          shutdownTimeout,
          demoParts,
          page,
          adminServer,
          metrics,
          out);
    } catch (RuntimeException | Error e) {
      // Errors too (a broken classpath): the backends' threads would otherwise keep the JVM up.
      if (adminServer != null) {
        adminServer.close();
      }
      if (metrics != null) {
        metrics.close();
      }
      if (checker != null) {
        checker.close();
      }
      FleetOptions.close(fleetParts);
      if (proxy != null) {
        proxy.close();
      }
      if (demoParts != null) {
        demoParts.close();
      }
      throw e;
    }
  }

  /**
   * Re-reads the configuration file (with the command-line flags on top, as at startup) and applies
   * what can change while running: backends added, removed, re-addressed or re-weighted go through
   * {@code group}, so open tunnels stay. A file that does not parse or validate changes nothing.
   *
   * @return a one-line summary of what changed
   * @throws IllegalArgumentException naming the problem; the running configuration is kept
   */
  synchronized String reload(BackendGroup group) {
    ProxyCommand fresh = new ProxyCommand(environment, demoMode);
    java.io.StringWriter sink = new java.io.StringWriter();
    PrintWriter w = new PrintWriter(sink, true);
    CommandLine cl = AffinityProxy.commandLine(fresh, w, w);
    try {
      cl.parseArgs(AffinityProxy.withConfigFile(cl, fresh, commandLineArgs.toArray(new String[0])));
      fresh.validate();
      fresh.buildRouter(BackendGroup.create(), w); // checks key files and strategy flags
      BackendGroup.of(fresh.backends); // checks ids and addresses together
    } catch (ParameterException | AffinityConfigurationException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    if (fresh.backends.isEmpty()) {
      throw new IllegalArgumentException("no backends (expected: at least one)");
    }
    int added = 0;
    int removed = 0;
    int changed = 0;
    Set<String> wanted = new HashSet<>();
    for (Backend b : fresh.backends) {
      wanted.add(b.id());
    }
    for (Backend b : fresh.backends) {
      Member m = group.snapshot().member(b.id());
      if (m == null) {
        group.add(b);
        added++;
      } else if (!m.backend().equals(b)) {
        group.update(b);
        changed++;
      }
    }
    for (Member m : group.snapshot().members()) {
      if (!wanted.contains(m.id())) {
        group.remove(m.id());
        removed++;
      }
    }
    String summary =
        "backends +"
            + added
            + " -"
            + removed
            + " ~"
            + changed
            + " ("
            + group.snapshot().size()
            + ")";
    if (!keyed.isEmpty()) {
      if (fresh.strategies.toString().equals(strategies.toString())
          && fresh.keyed.size() == keyed.size()) {
        // Same strategies: the cookie and JWT ones take the keys just read (new handshakes only).
        for (int i = 0; i < keyed.size(); i++) {
          keyed.get(i).replace(fresh.keyed.get(i).current());
        }
        summary += "; cookie and JWT keys re-read";
      } else {
        summary += "; --strategy changed: the running strategies are kept until a restart";
      }
    }
    ProxyServer running = listener;
    if (running != null && running.secure()) {
      // The certificate files named at startup, read again: a renewal is served from now on.
      try {
        summary +=
            running.reloadTls() ? "; tls certificate renewed" : "; tls certificate unchanged";
      } catch (IllegalArgumentException e) {
        summary += "; tls certificate kept: " + e.getMessage();
      }
    }
    LOG.log(System.Logger.Level.INFO, "reloaded {0}: {1}", config, summary);
    return summary;
  }

  /**
   * The admin tokens, or null when there is no admin listener.
   *
   * @throws ParameterException naming the flag, the file and the reason (never a token)
   */
  @Nullable AdminTokens adminTokens() {
    if (admin == null) {
      return null;
    }
    try {
      if (adminTokenFile != null) {
        return AdminTokens.fromFile(adminTokenFile);
      }
      String variable = requireNonNull(adminTokenEnv, "adminTokenEnv");
      return AdminTokens.fromEnvironment(variable, environment.apply(variable));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(
          spec.commandLine(),
          (adminTokenFile != null ? "--admin-token-file: " : "--admin-token-env: ")
              + e.getMessage(),
          e);
    }
  }

  private AffinityStrategy hashed(RoutingKey key) {
    switch (hash) {
      case MAGLEV:
        return AffinityStrategy.maglev(key);
      case RENDEZVOUS_TABLE:
        return AffinityStrategy.rendezvousTable(key);
      case RENDEZVOUS:
      default:
        return AffinityStrategy.rendezvous(key);
    }
  }

  /** The values of {@code --log-level}, as JDK logging levels. */
  enum LogLevel {
    ERROR(java.util.logging.Level.SEVERE),
    WARN(java.util.logging.Level.WARNING),
    INFO(java.util.logging.Level.INFO),
    DEBUG(java.util.logging.Level.FINE),
    TRACE(java.util.logging.Level.FINEST);

    // Only the JDK's shared Level constants are held here, and nothing changes them.
    @SuppressWarnings("ImmutableEnumChecker")
    private final java.util.logging.Level level;

    LogLevel(java.util.logging.Level level) {
      this.level = level;
    }

    /** Sets the root logger and its handlers to this level. */
    void apply() {
      java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
      root.setLevel(level);
      for (java.util.logging.Handler h : root.getHandlers()) {
        h.setLevel(level);
      }
    }
  }

  /** The values of {@code --hash}. */
  enum HashKind {
    RENDEZVOUS("rendezvous"),
    RENDEZVOUS_TABLE("rendezvous-table"),
    MAGLEV("maglev");

    private final String flagValue;

    HashKind(String flagValue) {
      this.flagValue = flagValue;
    }

    /** The value as written on the command line. */
    String flagValue() {
      return flagValue;
    }
  }

  private static String hostForUrl(InetSocketAddress a) {
    if (a.getAddress() == null || a.getAddress().isAnyLocalAddress()) {
      return "127.0.0.1";
    }
    String h = a.getAddress().getHostAddress();
    return h.indexOf(':') >= 0 ? "[" + h + "]" : h;
  }

  /** Starts, stops on SIGTERM or Ctrl-C (a shutdown hook), and returns 0 when stopped. */
  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    logLevel.apply();
    Running running = start(out, err);
    if (config != null) {
      Path file = config;
      BackendGroup group = running.group();
      boolean hangup =
          Signals.onHangup(
              () -> {
                try {
                  out.println("affinity-proxy: reloaded " + file + ": " + reload(group));
                } catch (IllegalArgumentException e) {
                  err.println(
                      "affinity-proxy: reload of "
                          + file
                          + " refused, keeping the running configuration: "
                          + e.getMessage());
                }
                out.flush();
                err.flush();
              });
      if (hangup) {
        // After the handler is in place: a SIGHUP sent once this line is out reloads.
        out.println("affinity-proxy: SIGHUP reloads " + file);
        out.flush();
      }
    }
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  running.close();
                  stopped.countDown();
                },
                "affinity-proxy-shutdown"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  /** What {@link #start} started; {@link #close()} stops it, proxy first. */
  public static final class Running implements AutoCloseable {
    private final ProxyServer proxy;
    private final BackendGroup group;
    private final @Nullable HealthChecker checker;
    private final List<AutoCloseable> fleetParts;
    private final Duration shutdownTimeout;
    private final DemoMode.@Nullable Session demo;
    private final @Nullable String page;
    private final @Nullable AdminServer admin;
    private final @Nullable ProxyMetrics metrics;
    private final PrintWriter out;
    private boolean closed;

    Running(
        ProxyServer proxy,
        BackendGroup group,
        @Nullable HealthChecker checker,
        List<AutoCloseable> fleetParts,
        Duration shutdownTimeout,
        DemoMode.@Nullable Session demo,
        @Nullable String page,
        @Nullable AdminServer admin,
        @Nullable ProxyMetrics metrics,
        PrintWriter out) {
      this.admin = admin;
      this.metrics = metrics;
      this.proxy = proxy;
      this.group = group;
      this.checker = checker;
      this.fleetParts = fleetParts;
      this.shutdownTimeout = shutdownTimeout;
      this.demo = demo;
      this.page = page;
      this.out = out;
    }

    /** The proxy's bound address. */
    public InetSocketAddress proxyAddress() {
      return proxy.address();
    }

    /** The backends and their states. */
    public BackendGroup group() {
      return group;
    }

    /** The admin listener's address, or null when it is off. */
    public @Nullable InetSocketAddress adminAddress() {
      return admin == null ? null : admin.address();
    }

    /** The demo page's URL, or null outside demo mode. */
    public @Nullable String pageUrl() {
      return page;
    }

    /**
     * Stops gracefully: this instance routes no new handshake (its backends are marked DOWN here,
     * so late clients get 503 and go to another instance), open tunnels get up to the shutdown
     * timeout to end, then the proxy closes what remains, and the demo's parts stop.
     */
    @Override
    public synchronized void close() {
      if (closed) {
        return;
      }
      closed = true;
      int open = openConnections();
      out.println(
          "affinity-proxy: stopping"
              + (open == 0
                  ? ""
                  : "; waiting up to "
                      + shutdownTimeout.toSeconds()
                      + "s for "
                      + open
                      + " open connection(s)"));
      out.flush();
      if (checker != null) {
        checker.close(); // so that no probe marks a backend UP again while we drain
      }
      // Nor a fleet change or a discovery refresh; our own DOWN marks below stay local.
      FleetOptions.close(fleetParts);
      for (Member m : group.snapshot().members()) {
        group.markDown(m.id());
      }
      long deadline = System.nanoTime() + shutdownTimeout.toNanos();
      try {
        while (openConnections() > 0 && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      try {
        proxy.close();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "proxy did not stop cleanly", e);
      }
      if (admin != null) {
        admin.close();
      }
      if (metrics != null) {
        metrics.close();
      }
      if (demo != null) {
        demo.close();
      }
      out.println("affinity-proxy: stopped");
      out.flush();
    }

    private int openConnections() {
      int n = 0;
      for (int c : group.liveConnections().values()) {
        n += c;
      }
      return n;
    }
  }

  /** The version line of {@code --version}. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = ProxyCommand.class.getPackage().getImplementationVersion();
      return new String[] {"affinity-proxy " + (v == null ? "(development build)" : v)};
    }
  }
}

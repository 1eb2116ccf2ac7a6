package dev.affinity.proxy;

import static java.util.Objects.requireNonNull;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.backend.BackendGroup;
import dev.affinity.discovery.BackendSource;
import dev.affinity.discovery.DiscoveredMembership;
import dev.affinity.redis.RedisFleet;
import io.lettuce.core.RedisCredentials;
import io.lettuce.core.RedisCredentialsProvider;
import io.lettuce.core.RedisURI;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** The fleet flags: {@code --redis}, {@code --backend-dns}, {@code --backends-file}. */
final class FleetOptions {
  @Option(
      names = "--redis",
      paramLabel = "URI",
      description =
          "Run as one fleet with the other instances given the same Redis: shared operator state"
              + " and live counts. redis://HOST:PORT, or rediss:// for TLS. Give a password"
              + " with --redis-password-file, not in the URI (command lines are visible to"
              + " other local users).")
  @Nullable String redis;

  @Option(
      names = "--redis-password-file",
      paramLabel = "FILE",
      description = "A file holding the Redis AUTH password (one line; trailing newline ignored).")
  @Nullable Path redisPasswordFile;

  @Option(
      names = "--instance-id",
      paramLabel = "ID",
      description = "This instance's id in the fleet (a pod name). Default: the host name.")
  @Nullable String instanceId;

  @Option(
      names = "--backend-dns",
      paramLabel = "NAME:PORT[,INTERVAL]",
      converter = DnsSpec.Converter.class,
      description =
          "Discover backends from the A/AAAA records of NAME (a headless Service), re-resolved"
              + " every INTERVAL (default 5s); srv:NAME[,INTERVAL] reads SRV records instead.")
  @Nullable DnsSpec dns;

  @Option(
      names = "--backends-file",
      paramLabel = "PATH",
      description =
          "Discover backends from a file, read again when it changes: HOST:PORT or ID HOST:PORT"
              + " per line, optionally weight=N max-connections=N.")
  @Nullable Path file;

  @Option(
      names = "--discovery-drain",
      paramLabel = "DURATION",
      defaultValue = "1m",
      converter = Converters.DurationSpec.class,
      description =
          "How long a discovered backend that disappeared drains before it is removed. Default:"
              + " ${DEFAULT-VALUE}.")
  Duration discoveryDrain = Duration.ofMinutes(1);

  /** Whether backends come from DNS or a file (then no --backend is needed). */
  boolean discovers() {
    return dns != null || file != null;
  }

  /**
   * Loads the shared state and the discovered backends into {@code group}, before the proxy
   * listens, and returns what to close when it stops.
   *
   * @throws ParameterException naming the flag core rejected
   */
  /** The {@code --redis} URI with the password from {@code --redis-password-file}, if any. */
  RedisURI redisUri(CommandLine cl) {
    String uri = requireNonNull(redis, "redis");
    RedisURI parsed;
    try {
      parsed = RedisURI.create(uri);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cl, "--redis: not a redis:// or rediss:// URI", e);
    }
    Path file = redisPasswordFile;
    if (file != null) {
      String password;
      try {
        password = Files.readString(file, StandardCharsets.UTF_8).strip();
      } catch (IOException e) {
        throw new ParameterException(
            cl,
            "--redis-password-file: "
                + file
                + " cannot be read ("
                + e.getClass().getSimpleName()
                + ")",
            e);
      }
      if (password.isEmpty()) {
        throw new ParameterException(cl, "--redis-password-file: " + file + " is empty");
      }
      parsed.setCredentialsProvider(
          RedisCredentialsProvider.from(() -> RedisCredentials.just(null, password.toCharArray())));
    }
    return parsed;
  }

  /** The fleet among what {@link #start} returned, if {@code --redis} was given. */
  static @Nullable RedisFleet fleetIn(List<AutoCloseable> parts) {
    for (AutoCloseable p : parts) {
      if (p instanceof RedisFleet) {
        return (RedisFleet) p;
      }
    }
    return null;
  }

  List<AutoCloseable> start(BackendGroup group, CommandLine cl, PrintWriter out) {
    List<AutoCloseable> parts = new ArrayList<>();
    try {
      // Discovered backends first, so that the shared state (a drain) applies to them too.
      if (dns != null) {
        DnsSpec d = dns;
        BackendSource source =
            d.port == 0 ? BackendSource.dnsSrv(d.name, null) : BackendSource.dns(d.name, d.port);
        parts.add(discover(group, source, d.interval, out));
      }
      if (file != null) {
        parts.add(discover(group, BackendSource.file(file), Duration.ofSeconds(2), out));
      }
      if (redis != null) {
        RedisFleet fleet;
        try {
          fleet = RedisFleet.builder(group).redis(redisUri(cl)).instanceId(instanceId()).build();
        } catch (AffinityConfigurationException e) {
          throw new ParameterException(cl, "--redis: " + e.getMessage(), e);
        }
        parts.add(fleet);
        boolean loaded = fleet.start();
        out.println(
            "affinity-proxy: fleet instance "
                + fleet.instanceId()
                + (loaded
                    ? ", shared state version " + fleet.status().appliedVersion()
                    : ", Redis unreachable: starting on the configured state (fail static)"));
      }
      return parts;
    } catch (RuntimeException e) {
      close(parts);
      throw e;
    }
  }

  private DiscoveredMembership discover(
      BackendGroup group, BackendSource source, Duration interval, PrintWriter out) {
    DiscoveredMembership d =
        DiscoveredMembership.builder(group, source)
            .interval(interval)
            .drainDeadline(discoveryDrain)
            .build();
    boolean ok = d.start();
    out.println(
        "affinity-proxy: backends from "
            + source
            + " every "
            + interval.toMillis()
            + " ms"
            + (ok ? "" : " (not readable yet; retrying)"));
    return d;
  }

  static void close(List<AutoCloseable> parts) {
    for (int i = parts.size() - 1; i >= 0; i--) {
      try {
        parts.get(i).close();
      } catch (Exception e) {
        System.getLogger(FleetOptions.class.getName())
            .log(System.Logger.Level.WARNING, "could not close " + parts.get(i), e);
      }
    }
  }

  private String instanceId() {
    if (instanceId != null) {
      return instanceId;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "affinity-proxy";
    }
  }

  /** A parsed {@code --backend-dns} value; port 0 means SRV. */
  static final class DnsSpec {
    final String name;
    final int port;
    final Duration interval;

    DnsSpec(String name, int port, Duration interval) {
      this.name = name;
      this.port = port;
      this.interval = interval;
    }

    @Override
    public String toString() {
      return (port == 0 ? "srv:" + name : name + ":" + port) + "," + interval;
    }

    /** Parses {@code NAME:PORT[,INTERVAL]} or {@code srv:NAME[,INTERVAL]}. */
    static final class Converter implements ITypeConverter<DnsSpec> {
      @Override
      public DnsSpec convert(String value) {
        String v = value.trim();
        Duration interval = Duration.ofSeconds(5);
        int comma = v.indexOf(',');
        if (comma >= 0) {
          interval = new Converters.DurationSpec().convert(v.substring(comma + 1));
          v = v.substring(0, comma);
        }
        if (v.startsWith("srv:") && v.length() > 4) {
          return new DnsSpec(v.substring(4), 0, interval);
        }
        int colon = v.lastIndexOf(':');
        int port = -1;
        if (colon > 0) {
          try {
            port = Integer.parseInt(v.substring(colon + 1));
          } catch (NumberFormatException e) {
            port = -1;
          }
        }
        if (port < 1 || port > 65_535) {
          throw new CommandLine.TypeConversionException(
              "'" + value + "' (expected: NAME:PORT[,INTERVAL] or srv:NAME[,INTERVAL])");
        }
        return new DnsSpec(v.substring(0, colon), port, interval);
      }
    }
  }
}

package dev.affinity.proxy;

import com.google.common.base.Splitter;
import com.google.common.net.HostAndPort;
import com.google.common.net.InetAddresses;
import dev.affinity.AffinityConfigurationException;
import dev.affinity.backend.Backend;
import dev.affinity.client.ForwardedHeader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The picocli converters of the proxy's flags. Each failure message names what was wrong and what
 * was expected; picocli prefixes it with the flag.
 */
final class Converters {
  private Converters() {}

  /** {@code HOST:PORT}, {@code [IPv6]:PORT} or {@code :PORT} (all interfaces); port 0 picks one. */
  static final class ListenAddress implements ITypeConverter<InetSocketAddress> {
    @Override
    public InetSocketAddress convert(String value) {
      HostAndPort hp;
      try {
        hp =
            value.startsWith(":")
                ? HostAndPort.fromParts("0.0.0.0", Integer.parseInt(value.substring(1)))
                : HostAndPort.fromString(value).requireBracketsForIPv6();
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(
            "'" + value + "' (expected: HOST:PORT, [IPv6]:PORT or :PORT)");
      }
      if (!hp.hasPort()) {
        throw new TypeConversionException("'" + value + "' (expected: HOST:PORT with a port)");
      }
      String host = hp.getHost();
      if (!InetAddresses.isInetAddress(host) && !host.equals("localhost")) {
        throw new TypeConversionException(
            "'" + value + "' (expected: an IP literal or localhost to listen on)");
      }
      return new InetSocketAddress(host, hp.getPort());
    }
  }

  /**
   * A backend: {@code id=ws-1,uri=ws://10.0.0.1:8080[,weight=2][,max-connections=10000]}; a {@code
   * wss://} URI gets the metadata {@code scheme=wss}, which the adapters reach over TLS. The
   * client's path is forwarded unchanged, so the URI has no path.
   */
  static final class BackendSpec implements ITypeConverter<Backend> {
    private static final String FORMAT =
        "id=ID,uri=ws[s]://HOST:PORT[,weight=N][,max-connections=N]";

    @Override
    public Backend convert(String value) {
      Map<String, String> fields = new LinkedHashMap<>();
      for (String part : Splitter.on(',').trimResults().omitEmptyStrings().split(value)) {
        int eq = part.indexOf('=');
        if (eq <= 0) {
          throw new TypeConversionException(
              "'" + part + "' in '" + value + "' (expected: " + FORMAT + ")");
        }
        String key = part.substring(0, eq).toLowerCase(Locale.ROOT);
        if (fields.put(key, part.substring(eq + 1)) != null) {
          throw new TypeConversionException(key + " given twice in '" + value + "'");
        }
      }
      String id = fields.remove("id");
      String uri = fields.remove("uri");
      if (id == null || uri == null) {
        throw new TypeConversionException(
            "'" + value + "' lacks " + (id == null ? "id" : "uri") + " (expected: " + FORMAT + ")");
      }
      URI u = parseUri(uri);
      try {
        String host = u.getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
          host = host.substring(1, host.length() - 1); // an IPv6 literal
        }
        Backend b = Backend.of(id, host, u.getPort());
        if ("wss".equalsIgnoreCase(u.getScheme())) {
          b = b.withMetadata("scheme", "wss"); // the adapters connect it over TLS
        }
        String weight = fields.remove("weight");
        if (weight != null) {
          b = b.withWeight(integer("weight", weight));
        }
        String max = fields.remove("max-connections");
        if (max != null) {
          b = b.withMaxConnections(integer("max-connections", max));
        }
        if (!fields.isEmpty()) {
          throw new TypeConversionException(
              "unknown field '"
                  + fields.keySet().iterator().next()
                  + "' (expected: "
                  + FORMAT
                  + ")");
        }
        return b;
      } catch (AffinityConfigurationException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }

    private static URI parseUri(String uri) {
      URI u;
      try {
        u = new URI(uri);
      } catch (URISyntaxException e) {
        throw new TypeConversionException("uri: '" + uri + "' (expected: ws://HOST:PORT)");
      }
      boolean schemeOk =
          "ws".equalsIgnoreCase(u.getScheme()) || "wss".equalsIgnoreCase(u.getScheme());
      if (!schemeOk || u.getHost() == null || u.getPort() < 0) {
        throw new TypeConversionException(
            "uri: '"
                + uri
                + "' (expected: ws://HOST:PORT or wss://HOST:PORT with an explicit port)");
      }
      boolean noPath =
          u.getRawPath() == null || u.getRawPath().isEmpty() || u.getRawPath().equals("/");
      if (!noPath || u.getRawQuery() != null || u.getRawUserInfo() != null) {
        throw new TypeConversionException(
            "uri: '"
                + uri
                + "' (expected: ws://HOST:PORT without path, query or user: the client's path is"
                + " forwarded unchanged)");
      }
      return u;
    }

    private static int integer(String field, String value) {
      try {
        return Integer.parseInt(value);
      } catch (NumberFormatException e) {
        throw new TypeConversionException(field + ": '" + value + "' (expected: an integer)");
      }
    }
  }

  private static final Pattern SIMPLE_DURATION =
      Pattern.compile("(\\d{1,9})(ms|s|m|h|d)", Pattern.CASE_INSENSITIVE);

  /** {@code 500ms}, {@code 30s}, {@code 10m}, {@code 2h}, {@code 1d}, or ISO-8601 {@code PT30S}. */
  static final class DurationSpec implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      Matcher m = SIMPLE_DURATION.matcher(value.trim());
      Duration d;
      if (m.matches()) {
        long n = Long.parseLong(m.group(1));
        switch (m.group(2).toLowerCase(Locale.ROOT)) {
          case "ms":
            d = Duration.ofMillis(n);
            break;
          case "s":
            d = Duration.ofSeconds(n);
            break;
          case "m":
            d = Duration.ofMinutes(n);
            break;
          case "h":
            d = Duration.ofHours(n);
            break;
          default:
            d = Duration.ofDays(n);
        }
      } else {
        try {
          d = Duration.parse(value.trim());
        } catch (DateTimeParseException e) {
          throw new TypeConversionException(
              "'" + value + "' (expected: a duration such as 500ms, 30s, 10m, 2h or PT30S)");
        }
      }
      if (d.isNegative() || d.isZero()) {
        throw new TypeConversionException("'" + value + "' (expected: a positive duration)");
      }
      return d;
    }
  }

  /** {@code x-forwarded-for}, {@code forwarded} or {@code none}. */
  static final class ForwardedHeaderSpec implements ITypeConverter<ForwardedHeader> {
    @Override
    public ForwardedHeader convert(String value) {
      switch (value.trim().toLowerCase(Locale.ROOT)) {
        case "x-forwarded-for":
        case "xff":
          return ForwardedHeader.X_FORWARDED_FOR;
        case "forwarded":
          return ForwardedHeader.FORWARDED;
        case "none":
          return ForwardedHeader.NONE;
        default:
          throw new TypeConversionException(
              "'" + value + "' (expected: x-forwarded-for, forwarded or none)");
      }
    }
  }

  /** {@code netty} or {@code jetty}. */
  static final class ServerSpec implements ITypeConverter<ServerKind> {
    @Override
    public ServerKind convert(String value) {
      for (ServerKind k : ServerKind.values()) {
        if (k.flagValue().equalsIgnoreCase(value.trim())) {
          return k;
        }
      }
      throw new TypeConversionException("'" + value + "' (expected: netty or jetty)");
    }
  }

  /** {@code rendezvous}, {@code rendezvous-table} or {@code maglev}. */
  static final class HashSpec implements ITypeConverter<ProxyCommand.HashKind> {
    @Override
    public ProxyCommand.HashKind convert(String value) {
      for (ProxyCommand.HashKind k : ProxyCommand.HashKind.values()) {
        if (k.flagValue().equalsIgnoreCase(value.trim())) {
          return k;
        }
      }
      throw new TypeConversionException(
          "'" + value + "' (expected: rendezvous, rendezvous-table or maglev)");
    }
  }

  /** A first-pick strategy: {@code least-connections}, {@code round-robin}, {@code p2c}. */
  static final class FallbackSpec implements ITypeConverter<Fallback> {
    @Override
    public Fallback convert(String value) {
      for (Fallback f : Fallback.values()) {
        if (f.flagValue().equalsIgnoreCase(value.trim())
            || f.alias().equalsIgnoreCase(value.trim())) {
          return f;
        }
      }
      throw new TypeConversionException(
          "'" + value + "' (expected: least-connections, round-robin or power-of-two-choices)");
    }
  }

  /** One element of the strategy chain; see {@link StrategySpec#parse}. */
  static final class StrategySpecs implements ITypeConverter<StrategySpec> {
    @Override
    public StrategySpec convert(String value) {
      try {
        return StrategySpec.parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}

package dev.affinity.internal.http;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.internal.Checks;
import java.time.Duration;

/**
 * The bounds of the settings both adapters share, checked by the same code so that the same value
 * is accepted or refused with the same message on either adapter. Not API.
 */
public final class AdapterSettings {
  /** The longest connect, handshake or request-head timeout: 1 hour. */
  public static final Duration MAX_TIMEOUT = Duration.ofHours(1);

  /** The longest idle timeout: 7 days. {@link Duration#ZERO} disables it. */
  public static final Duration MAX_IDLE_TIMEOUT = Duration.ofDays(7);

  /** The default tunnel idle timeout of both adapters: 1 hour. */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(1);

  /** The default backend connect timeout of both adapters: 5 seconds. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);

  /** The default backend handshake timeout of both adapters: 10 seconds. */
  public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

  /**
   * The default bound on pooled HTTP connections to one backend (the HTTP path of {@code
   * proxyHttp}): 64. Requests beyond it wait for a pooled connection.
   */
  public static final int DEFAULT_HTTP_MAX_CONNECTIONS_PER_BACKEND = 64;

  /**
   * The default wait for a backend's response head on the HTTP path: 60 seconds, longer than
   * Engine.IO's 25 s long-poll (its {@code pingInterval}) so a waiting poll is never cut off.
   */
  public static final Duration DEFAULT_HTTP_RESPONSE_TIMEOUT = Duration.ofSeconds(60);

  /** The default time an idle pooled backend connection is kept on the HTTP path: 30 seconds. */
  public static final Duration DEFAULT_HTTP_POOL_IDLE_TIMEOUT = Duration.ofSeconds(30);

  /** The default largest request body the HTTP path forwards: 10 MiB; more is answered 413. */
  public static final long DEFAULT_HTTP_MAX_REQUEST_BODY_BYTES = 10L << 20;

  private AdapterSettings() {}

  /**
   * How often a TLS listener looks at its certificate files: {@link Duration#ZERO} (only on an
   * explicit reload) or a {@link #timeout} (1 ms..1 h).
   *
   * @throws dev.affinity.AffinityConfigurationException otherwise
   */
  public static Duration tlsCheckInterval(Duration d) {
    requireNonNull(d, "tlsCheckInterval");
    return d.isZero() ? d : timeout("tlsCheckInterval", d);
  }

  /**
   * A connect, handshake or request-head timeout.
   *
   * @throws dev.affinity.AffinityConfigurationException unless between 1 ms and 1 hour
   */
  public static Duration timeout(String field, Duration d) {
    requireNonNull(d, field);
    check(
        d.compareTo(Duration.ofMillis(1)) >= 0 && d.compareTo(MAX_TIMEOUT) <= 0,
        field,
        d,
        "1ms..1h");
    return d;
  }

  /**
   * An idle timeout: {@link Duration#ZERO} disables it, anything else is 1 ms to 7 days.
   *
   * @throws dev.affinity.AffinityConfigurationException otherwise
   */
  public static Duration idleTimeout(String field, Duration d) {
    requireNonNull(d, field);
    check(
        d.isZero()
            || (d.compareTo(Duration.ofMillis(1)) >= 0 && d.compareTo(MAX_IDLE_TIMEOUT) <= 0),
        field,
        d,
        "PT0S (disabled) or 1ms..7d");
    return d;
  }

  /**
   * The most header fields a handshake may carry ({@link HandshakeRules}).
   *
   * @throws dev.affinity.AffinityConfigurationException unless 8 to 10000
   */
  public static int maxHeaderCount(int count) {
    check(count >= 8 && count <= 10_000, "maxHeaderCount", count, "8..10000");
    return count;
  }

  /**
   * How much of a backend's non-101 response body is relayed to the client.
   *
   * @throws dev.affinity.AffinityConfigurationException unless 0 to 16 MiB
   */
  public static int maxErrorBodyBytes(int bytes) {
    check(bytes >= 0 && bytes <= 16 << 20, "maxErrorBodyBytes", bytes, "0..16777216");
    return bytes;
  }

  /**
   * The bound on pooled HTTP connections to one backend.
   *
   * @throws dev.affinity.AffinityConfigurationException unless 1 to 10000
   */
  public static int httpMaxConnectionsPerBackend(int max) {
    check(max >= 1 && max <= 10_000, "httpMaxConnectionsPerBackend", max, "1..10000");
    return max;
  }

  /**
   * How long the HTTP path waits for a backend's response head after sending the request: a {@link
   * #timeout} (1 ms..1 h).
   *
   * @throws dev.affinity.AffinityConfigurationException otherwise
   */
  public static Duration httpResponseTimeout(Duration d) {
    return timeout("httpResponseTimeout", d);
  }

  /**
   * How long an idle pooled backend connection is kept on the HTTP path: an {@link #idleTimeout}
   * ({@link Duration#ZERO} keeps it until the backend closes it, else 1 ms..7 d).
   *
   * @throws dev.affinity.AffinityConfigurationException otherwise
   */
  public static Duration httpPoolIdleTimeout(Duration d) {
    return idleTimeout("httpPoolIdleTimeout", d);
  }

  /**
   * The largest request body the HTTP path forwards; a larger one is answered 413.
   *
   * @throws dev.affinity.AffinityConfigurationException unless at least 1
   */
  public static long httpMaxRequestBodyBytes(long bytes) {
    check(bytes >= 1, "httpMaxRequestBodyBytes", bytes, ">= 1");
    return bytes;
  }

  /**
   * Checks the arguments of a tunnel's {@code close(webSocketCode, reason)}: a code a close frame
   * may carry (RFC 6455 section 7.4: 1000..4999 except 1005, 1006 and 1015, which only report what
   * happened locally), and a non-null reason.
   *
   * @throws IllegalArgumentException naming the code otherwise
   */
  public static void closeArguments(int webSocketCode, String reason) {
    if (webSocketCode < 1000
        || webSocketCode > 4999
        || webSocketCode == 1005
        || webSocketCode == 1006
        || webSocketCode == 1015) {
      throw new IllegalArgumentException(
          Checks.message("webSocketCode", webSocketCode, "1000..4999, not 1005, 1006 or 1015"));
    }
    requireNonNull(reason, "reason");
  }
}

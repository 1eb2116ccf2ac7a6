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

package dev.affinity.lifecycle;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.backend.Backend;
import java.time.Duration;

/**
 * One active health check of one backend, run by a {@link HealthChecker} on its own probe threads
 * (never on the routing path or an adapter event loop). A probe returns normally when the backend
 * is healthy and throws when it is not; it may block, but must give up within {@code timeout}.
 *
 * <pre>{@code
 * HealthProbe tcp = HealthProbe.tcp();                    // the port accepts connections
 * HealthProbe ws = HealthProbe.webSocket("/healthz/ws");  // a WebSocket handshake succeeds
 * }</pre>
 *
 * <p>A TCP probe cannot tell a backend that accepts connections but never answers (hung, or
 * overloaded) from a healthy one; the WebSocket probe can, because it waits for the {@code 101}.
 */
@FunctionalInterface
public interface HealthProbe {
  /**
   * Checks {@code backend}.
   *
   * @param timeout how long the probe may take in all
   * @throws Exception when the backend is unhealthy: refused, timed out, wrong answer
   */
  void probe(Backend backend, Duration timeout) throws Exception;

  /**
   * A probe that passes when a TCP connection to the backend's address opens within the timeout.
   */
  static HealthProbe tcp() {
    return Probes.TCP;
  }

  /**
   * A probe that opens a WebSocket ({@code ws://host:port/path}) with the JDK's {@link
   * java.net.http.HttpClient} and passes when the backend answers {@code 101 Switching Protocols}
   * with a valid {@code Sec-WebSocket-Accept} within the timeout, then closes it with code 1000.
   * Any other status, a bad accept value, a reset or a timeout fails it.
   *
   * @param path the request path, starting with {@code /}, optionally with a query
   * @throws dev.affinity.AffinityConfigurationException if the path does not start with {@code /}
   */
  static HealthProbe webSocket(String path) {
    requireNonNull(path, "path");
    check(path.startsWith("/"), "path", "'" + path + "'", "a path starting with /");
    return new Probes.WebSocketProbe(path);
  }
}

package dev.affinity.testkit;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The adapter settings a scenario needs, in framework-neutral terms. {@link
 * AdapterScenarios#startProxy} must apply each of them to the adapter under test.
 */
public final class ProxySettings {
  /** What most scenarios use: short enough to keep failure tests quick, long enough for CI. */
  public static final ProxySettings DEFAULTS =
      new ProxySettings(Duration.ofSeconds(5), Duration.ofSeconds(3), Duration.ofSeconds(60));

  private final Duration connectTimeout;
  private final Duration handshakeTimeout;
  private final Duration idleTimeout;

  private ProxySettings(Duration connectTimeout, Duration handshakeTimeout, Duration idleTimeout) {
    this.connectTimeout = connectTimeout;
    this.handshakeTimeout = handshakeTimeout;
    this.idleTimeout = idleTimeout;
  }

  /** How long to wait for a TCP connect to a backend. */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /** How long to wait for a backend's response head after forwarding the handshake. */
  public Duration handshakeTimeout() {
    return handshakeTimeout;
  }

  /** How long a tunnel may carry no bytes in either direction before both legs are closed. */
  public Duration idleTimeout() {
    return idleTimeout;
  }

  /** Returns a copy with another idle timeout. */
  public ProxySettings withIdleTimeout(Duration idleTimeout) {
    return new ProxySettings(
        connectTimeout, handshakeTimeout, requireNonNull(idleTimeout, "idleTimeout"));
  }

  @Override
  public String toString() {
    return "ProxySettings{connect="
        + connectTimeout
        + ", handshake="
        + handshakeTimeout
        + ", idle="
        + idleTimeout
        + "}";
  }
}

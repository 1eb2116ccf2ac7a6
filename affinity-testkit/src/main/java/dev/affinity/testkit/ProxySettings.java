package dev.affinity.testkit;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * The adapter settings a scenario needs, in framework-neutral terms. {@link
 * AdapterScenarios#startProxy} must apply each of them to the adapter under test.
 */
public final class ProxySettings {
  /** What most scenarios use: short enough to keep failure tests quick, long enough for CI. */
  public static final ProxySettings DEFAULTS =
      new ProxySettings(
          Duration.ofSeconds(5),
          Duration.ofSeconds(3),
          Duration.ofSeconds(60),
          List.of(),
          false,
          Duration.ofSeconds(10));

  private final Duration connectTimeout;
  private final Duration handshakeTimeout;
  private final Duration idleTimeout;
  private final List<String> trustedProxies;
  private final boolean proxyProtocol;
  private final Duration requestHeadTimeout;

  private ProxySettings(
      Duration connectTimeout,
      Duration handshakeTimeout,
      Duration idleTimeout,
      List<String> trustedProxies,
      boolean proxyProtocol,
      Duration requestHeadTimeout) {
    this.requestHeadTimeout = requestHeadTimeout;
    this.connectTimeout = connectTimeout;
    this.handshakeTimeout = handshakeTimeout;
    this.idleTimeout = idleTimeout;
    this.trustedProxies = List.copyOf(trustedProxies);
    this.proxyProtocol = proxyProtocol;
  }

  /** How long to wait for a TCP connect to a backend. */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /** How long to wait for a backend's response head after forwarding the handshake. */
  public Duration handshakeTimeout() {
    return handshakeTimeout;
  }

  /**
   * How long a tunnel may carry no bytes in either direction before both legs are closed; {@link
   * Duration#ZERO} disables it.
   */
  public Duration idleTimeout() {
    return idleTimeout;
  }

  /**
   * The adapter's trusted proxy ranges (CIDR notation): whose forwarded headers and PROXY source
   * are believed when writing the backend's forwarded headers. Empty by default.
   */
  public List<String> trustedProxies() {
    return trustedProxies;
  }

  /** Whether the adapter expects a PROXY protocol header (v1 or v2) on each connection. */
  public boolean proxyProtocol() {
    return proxyProtocol;
  }

  /** Returns a copy with another idle timeout. */
  public ProxySettings withIdleTimeout(Duration idleTimeout) {
    return new ProxySettings(
        connectTimeout,
        handshakeTimeout,
        requireNonNull(idleTimeout, "idleTimeout"),
        trustedProxies,
        proxyProtocol,
        requestHeadTimeout);
  }

  /** Returns a copy with another backend handshake timeout. */
  public ProxySettings withHandshakeTimeout(Duration handshakeTimeout) {
    return new ProxySettings(
        connectTimeout,
        requireNonNull(handshakeTimeout, "handshakeTimeout"),
        idleTimeout,
        trustedProxies,
        proxyProtocol,
        requestHeadTimeout);
  }

  /** Returns a copy trusting these proxy ranges. */
  public ProxySettings withTrustedProxies(String... cidrs) {
    return new ProxySettings(
        connectTimeout,
        handshakeTimeout,
        idleTimeout,
        List.of(cidrs),
        proxyProtocol,
        requestHeadTimeout);
  }

  /** Returns a copy with the PROXY protocol on or off. */
  public ProxySettings withProxyProtocol(boolean enabled) {
    return new ProxySettings(
        connectTimeout, handshakeTimeout, idleTimeout, trustedProxies, enabled, requestHeadTimeout);
  }

  /**
   * How long a new connection may take to send a complete request head before the adapter answers
   * 408 and closes it (10 s by default, as in both adapters).
   */
  public Duration requestHeadTimeout() {
    return requestHeadTimeout;
  }

  /** Returns a copy with another request-head timeout. */
  public ProxySettings withRequestHeadTimeout(Duration timeout) {
    return new ProxySettings(
        connectTimeout,
        handshakeTimeout,
        idleTimeout,
        trustedProxies,
        proxyProtocol,
        requireNonNull(timeout, "timeout"));
  }

  @Override
  public String toString() {
    return "ProxySettings{connect="
        + connectTimeout
        + ", handshake="
        + handshakeTimeout
        + ", idle="
        + idleTimeout
        + ", trustedProxies="
        + trustedProxies
        + ", proxyProtocol="
        + proxyProtocol
        + ", requestHeadTimeout="
        + requestHeadTimeout
        + "}";
  }
}

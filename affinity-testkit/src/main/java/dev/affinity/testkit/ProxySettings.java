package dev.affinity.testkit;

import static java.util.Objects.requireNonNull;

import dev.affinity.internal.http.AdapterSettings;
import dev.affinity.internal.http.HttpScope;
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
          Duration.ofSeconds(10),
          "off",
          AdapterSettings.DEFAULT_HTTP_MAX_CONNECTIONS_PER_BACKEND,
          AdapterSettings.DEFAULT_HTTP_RESPONSE_TIMEOUT,
          AdapterSettings.DEFAULT_HTTP_POOL_IDLE_TIMEOUT,
          AdapterSettings.DEFAULT_HTTP_MAX_REQUEST_BODY_BYTES);

  private final Duration connectTimeout;
  private final Duration handshakeTimeout;
  private final Duration idleTimeout;
  private final List<String> trustedProxies;
  private final boolean proxyProtocol;
  private final Duration requestHeadTimeout;
  private final String http;
  private final int httpMaxConnectionsPerBackend;
  private final Duration httpResponseTimeout;
  private final Duration httpPoolIdleTimeout;
  private final long httpMaxRequestBodyBytes;

  private ProxySettings(
      Duration connectTimeout,
      Duration handshakeTimeout,
      Duration idleTimeout,
      List<String> trustedProxies,
      boolean proxyProtocol,
      Duration requestHeadTimeout,
      String http,
      int httpMaxConnectionsPerBackend,
      Duration httpResponseTimeout,
      Duration httpPoolIdleTimeout,
      long httpMaxRequestBodyBytes) {
    this.requestHeadTimeout = requestHeadTimeout;
    this.http = http;
    this.httpMaxConnectionsPerBackend = httpMaxConnectionsPerBackend;
    this.httpResponseTimeout = httpResponseTimeout;
    this.httpPoolIdleTimeout = httpPoolIdleTimeout;
    this.httpMaxRequestBodyBytes = httpMaxRequestBodyBytes;
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
        requestHeadTimeout,
        http,
        httpMaxConnectionsPerBackend,
        httpResponseTimeout,
        httpPoolIdleTimeout,
        httpMaxRequestBodyBytes);
  }

  /** Returns a copy with another backend handshake timeout. */
  public ProxySettings withHandshakeTimeout(Duration handshakeTimeout) {
    return new ProxySettings(
        connectTimeout,
        requireNonNull(handshakeTimeout, "handshakeTimeout"),
        idleTimeout,
        trustedProxies,
        proxyProtocol,
        requestHeadTimeout,
        http,
        httpMaxConnectionsPerBackend,
        httpResponseTimeout,
        httpPoolIdleTimeout,
        httpMaxRequestBodyBytes);
  }

  /** Returns a copy trusting these proxy ranges. */
  public ProxySettings withTrustedProxies(String... cidrs) {
    return new ProxySettings(
        connectTimeout,
        handshakeTimeout,
        idleTimeout,
        List.of(cidrs),
        proxyProtocol,
        requestHeadTimeout,
        http,
        httpMaxConnectionsPerBackend,
        httpResponseTimeout,
        httpPoolIdleTimeout,
        httpMaxRequestBodyBytes);
  }

  /** Returns a copy with the PROXY protocol on or off. */
  public ProxySettings withProxyProtocol(boolean enabled) {
    return new ProxySettings(
        connectTimeout,
        handshakeTimeout,
        idleTimeout,
        trustedProxies,
        enabled,
        requestHeadTimeout,
        http,
        httpMaxConnectionsPerBackend,
        httpResponseTimeout,
        httpPoolIdleTimeout,
        httpMaxRequestBodyBytes);
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
        requireNonNull(timeout, "timeout"),
        http,
        httpMaxConnectionsPerBackend,
        httpResponseTimeout,
        httpPoolIdleTimeout,
        httpMaxRequestBodyBytes);
  }

  /**
   * Which plain HTTP requests the adapter proxies, in the runnable proxy's {@code --http} syntax
   * ({@link HttpScope#parse}): {@code "off"} (the default), {@code "on"}, or path prefixes such as
   * {@code "/socket.io,/events"}. Adapters map {@code on} to {@code proxyHttp(true)} and a path
   * list to {@code proxyHttpPaths(...)} ({@link #httpScope()} gives the parsed form).
   */
  public String http() {
    return http;
  }

  /** {@link #http()} parsed. */
  public HttpScope httpScope() {
    return HttpScope.parse(http);
  }

  /** The bound on pooled HTTP connections per backend ({@code httpMaxConnectionsPerBackend}). */
  public int httpMaxConnectionsPerBackend() {
    return httpMaxConnectionsPerBackend;
  }

  /** How long the HTTP path waits for a backend's response head ({@code httpResponseTimeout}). */
  public Duration httpResponseTimeout() {
    return httpResponseTimeout;
  }

  /** How long an idle pooled backend connection is kept ({@code httpPoolIdleTimeout}). */
  public Duration httpPoolIdleTimeout() {
    return httpPoolIdleTimeout;
  }

  /** The largest request body the HTTP path forwards ({@code httpMaxRequestBodyBytes}). */
  public long httpMaxRequestBodyBytes() {
    return httpMaxRequestBodyBytes;
  }

  /**
   * Returns a copy with another HTTP scope.
   *
   * @throws dev.affinity.AffinityConfigurationException if {@link HttpScope#parse} refuses {@code
   *     spec}
   */
  public ProxySettings withHttp(String spec) {
    HttpScope.parse(spec);
    return new ProxySettings(
        connectTimeout,
        handshakeTimeout,
        idleTimeout,
        trustedProxies,
        proxyProtocol,
        requestHeadTimeout,
        spec,
        httpMaxConnectionsPerBackend,
        httpResponseTimeout,
        httpPoolIdleTimeout,
        httpMaxRequestBodyBytes);
  }

  /** Returns a copy with another bound on pooled HTTP connections per backend. */
  public ProxySettings withHttpMaxConnectionsPerBackend(int max) {
    return new ProxySettings(
        connectTimeout,
        handshakeTimeout,
        idleTimeout,
        trustedProxies,
        proxyProtocol,
        requestHeadTimeout,
        http,
        AdapterSettings.httpMaxConnectionsPerBackend(max),
        httpResponseTimeout,
        httpPoolIdleTimeout,
        httpMaxRequestBodyBytes);
  }

  /** Returns a copy with another wait for a backend's HTTP response head. */
  public ProxySettings withHttpResponseTimeout(Duration timeout) {
    return new ProxySettings(
        connectTimeout,
        handshakeTimeout,
        idleTimeout,
        trustedProxies,
        proxyProtocol,
        requestHeadTimeout,
        http,
        httpMaxConnectionsPerBackend,
        AdapterSettings.httpResponseTimeout(timeout),
        httpPoolIdleTimeout,
        httpMaxRequestBodyBytes);
  }

  /** Returns a copy with another idle time for pooled backend connections. */
  public ProxySettings withHttpPoolIdleTimeout(Duration timeout) {
    return new ProxySettings(
        connectTimeout,
        handshakeTimeout,
        idleTimeout,
        trustedProxies,
        proxyProtocol,
        requestHeadTimeout,
        http,
        httpMaxConnectionsPerBackend,
        httpResponseTimeout,
        AdapterSettings.httpPoolIdleTimeout(timeout),
        httpMaxRequestBodyBytes);
  }

  /** Returns a copy with another request body limit for the HTTP path. */
  public ProxySettings withHttpMaxRequestBodyBytes(long bytes) {
    return new ProxySettings(
        connectTimeout,
        handshakeTimeout,
        idleTimeout,
        trustedProxies,
        proxyProtocol,
        requestHeadTimeout,
        http,
        httpMaxConnectionsPerBackend,
        httpResponseTimeout,
        httpPoolIdleTimeout,
        AdapterSettings.httpMaxRequestBodyBytes(bytes));
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
        + ", http="
        + http
        + ", httpMaxConnectionsPerBackend="
        + httpMaxConnectionsPerBackend
        + ", httpResponseTimeout="
        + httpResponseTimeout
        + ", httpPoolIdleTimeout="
        + httpPoolIdleTimeout
        + ", httpMaxRequestBodyBytes="
        + httpMaxRequestBodyBytes
        + "}";
  }
}

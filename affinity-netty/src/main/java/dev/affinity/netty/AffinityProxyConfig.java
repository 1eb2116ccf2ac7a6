package dev.affinity.netty;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.client.Cidr;
import dev.affinity.internal.http.AdapterSettings;
import dev.affinity.internal.http.ErrorAnswer;
import dev.affinity.internal.http.ForwardedHeaders;
import dev.affinity.internal.http.HandshakeRules;
import dev.affinity.internal.tls.PemTls;
import dev.affinity.metrics.TunnelListener;
import dev.affinity.strategy.LearnedAffinity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * Settings of {@link AffinityProxyHandler} and {@link AffinityProxyServer}: timeouts, head limits,
 * buffering, and what to do with requests that are not WebSocket upgrades. Immutable; every setting
 * has a default (the {@code DEFAULT_*} constants), so {@code AffinityProxyConfig.builder().build()}
 * is a working configuration.
 *
 * <pre>{@code
 * AffinityProxyConfig config = AffinityProxyConfig.builder()
 *     .connectTimeout(Duration.ofSeconds(2))
 *     .idleTimeout(Duration.ofMinutes(10))
 *     .nonWebSocket(NonWebSocketPolicy.PASS)
 *     .build();
 * }</pre>
 */
public final class AffinityProxyConfig {
  /** How long a TCP connect to a backend may take: 5 seconds (both adapters). */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = AdapterSettings.DEFAULT_CONNECT_TIMEOUT;

  /** How long a backend may take to answer the forwarded handshake: 10 seconds (both adapters). */
  public static final Duration DEFAULT_HANDSHAKE_TIMEOUT =
      AdapterSettings.DEFAULT_HANDSHAKE_TIMEOUT;

  /**
   * How long a tunnel may carry no bytes before both legs are closed: 1 hour, the same as the Jetty
   * adapter, so that quiet WebSockets (long-lived by nature) are not cut by the proxy.
   */
  public static final Duration DEFAULT_IDLE_TIMEOUT = AdapterSettings.DEFAULT_IDLE_TIMEOUT;

  /** How long a new connection may take to send its request head: 10 seconds, then 408. */
  public static final Duration DEFAULT_REQUEST_HEAD_TIMEOUT =
      ErrorAnswer.DEFAULT_REQUEST_HEAD_TIMEOUT;

  /** The longest request or status line accepted: 4096 bytes. */
  public static final int DEFAULT_MAX_INITIAL_LINE_LENGTH = 4096;

  /** The most header bytes accepted in a request or a backend's response head: 8192. */
  public static final int DEFAULT_MAX_HEADER_SIZE = 8192;

  /** The most header fields a handshake may carry: 100, as on the Jetty adapter. */
  public static final int DEFAULT_MAX_HEADER_COUNT = HandshakeRules.DEFAULT_MAX_HEADER_COUNT;

  /** How much of a backend's non-101 body is relayed: 64 KiB, as on the Jetty adapter. */
  public static final int DEFAULT_MAX_ERROR_BODY_BYTES =
      HandshakeRules.DEFAULT_MAX_ERROR_BODY_BYTES;

  /** Write-buffer low water mark of each leg: 32 KiB. */
  public static final int DEFAULT_LOW_WATER_MARK = 32 * 1024;

  /** Write-buffer high water mark of each leg: 64 KiB. */
  public static final int DEFAULT_HIGH_WATER_MARK = 64 * 1024;

  private final Duration connectTimeout;
  private final Duration handshakeTimeout;
  private final Duration idleTimeout;
  private final int maxInitialLineLength;
  private final int maxHeaderSize;
  private final int maxHeaderCount;
  private final int maxErrorBodyBytes;
  private final int lowWaterMark;
  private final int highWaterMark;
  private final NonWebSocketPolicy nonWebSocket;
  private final boolean forwardedHeaders;
  private final boolean decideOnly;
  private final ForwardedHeaders forwarding;
  private final Duration requestHeadTimeout;
  private final @Nullable SSLContext backendSslContext;
  private final TunnelListener tunnelListener;
  private final @Nullable LearnedAffinity learnedAffinity;

  private AffinityProxyConfig(Builder b) {
    this.tunnelListener = b.tunnelListener;
    this.learnedAffinity = b.learnedAffinity;
    this.backendSslContext = b.backendSslContext;
    this.requestHeadTimeout = b.requestHeadTimeout;
    this.forwarding = ForwardedHeaders.trusting(b.trustedProxies);
    this.connectTimeout = b.connectTimeout;
    this.handshakeTimeout = b.handshakeTimeout;
    this.idleTimeout = b.idleTimeout;
    this.maxInitialLineLength = b.maxInitialLineLength;
    this.maxHeaderSize = b.maxHeaderSize;
    this.maxHeaderCount = b.maxHeaderCount;
    this.maxErrorBodyBytes = b.maxErrorBodyBytes;
    this.lowWaterMark = b.lowWaterMark;
    this.highWaterMark = b.highWaterMark;
    this.nonWebSocket = b.nonWebSocket;
    this.forwardedHeaders = b.forwardedHeaders;
    this.decideOnly = b.decideOnly;
  }

  /** The defaults. */
  public static AffinityProxyConfig defaults() {
    return builder().build();
  }

  /** Returns a builder with the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The TLS context for backends whose metadata {@code scheme} is {@code wss}: the one given to
   * {@link Builder#backendSslContext}, or the JVM's default (its trust store).
   */
  public SSLContext backendSslContext() {
    SSLContext c = backendSslContext;
    return c != null ? c : PemTls.defaultClientContext();
  }

  /**
   * Hears each routed handshake's answer and each tunnel's end; default {@link
   * TunnelListener#NONE}.
   */
  public TunnelListener tunnelListener() {
    return tunnelListener;
  }

  /**
   * What learns from each backend's 101 ({@link Builder#learnedAffinity}), or null: nothing is
   * learned.
   */
  public @Nullable LearnedAffinity learnedAffinity() {
    return learnedAffinity;
  }

  /** How long a TCP connect to one backend may take before the next candidate is tried. */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /** How long the backend may take to send its response head after the request was forwarded. */
  public Duration handshakeTimeout() {
    return handshakeTimeout;
  }

  /**
   * How long a tunnel may be idle (no read and no completed write on a leg) before both legs are
   * closed; {@link Duration#ZERO} disables it.
   */
  public Duration idleTimeout() {
    return idleTimeout;
  }

  /**
   * How long a new connection may take to send a complete request head before it gets 408 and is
   * closed, whether it sent nothing or trickles bytes.
   */
  public Duration requestHeadTimeout() {
    return requestHeadTimeout;
  }

  /** The longest request line (client) or status line (backend) accepted. */
  public int maxInitialLineLength() {
    return maxInitialLineLength;
  }

  /** The most header bytes accepted in a request head (client) or response head (backend). */
  public int maxHeaderSize() {
    return maxHeaderSize;
  }

  /** The most header fields a handshake may carry; more get 431. */
  public int maxHeaderCount() {
    return maxHeaderCount;
  }

  /**
   * How much of a backend's non-101 response body is relayed to the client; the rest is dropped.
   */
  public int maxErrorBodyBytes() {
    return maxErrorBodyBytes;
  }

  /** The write-buffer low water mark of both legs: reading resumes below it. */
  public int lowWaterMark() {
    return lowWaterMark;
  }

  /** The write-buffer high water mark of both legs: the other leg stops reading above it. */
  public int highWaterMark() {
    return highWaterMark;
  }

  /** What happens to requests that are not WebSocket upgrades. */
  public NonWebSocketPolicy nonWebSocket() {
    return nonWebSocket;
  }

  /** Whether {@code X-Forwarded-For}, {@code X-Forwarded-Proto} and {@code Forwarded} are added. */
  public boolean forwardedHeaders() {
    return forwardedHeaders;
  }

  /**
   * The peers whose forwarded headers ({@code X-Forwarded-*}, {@code Forwarded}) and PROXY protocol
   * source are believed when writing the backend's forwarded headers; empty (the default) trusts
   * nobody, so whatever a client sends in them is replaced.
   */
  public List<Cidr> trustedProxies() {
    return forwarding.trustedProxies();
  }

  ForwardedHeaders forwarding() {
    return forwarding;
  }

  /**
   * Whether the handler only decides: it sets {@link AffinityProxyHandler#DECISION}, fires a {@link
   * RoutingDecisionEvent}, passes the upgrade request on to the next handler and removes itself,
   * without connecting anywhere.
   */
  public boolean decideOnly() {
    return decideOnly;
  }

  @Override
  public String toString() {
    return "AffinityProxyConfig{connectTimeout="
        + connectTimeout
        + ", handshakeTimeout="
        + handshakeTimeout
        + ", idleTimeout="
        + idleTimeout
        + ", maxInitialLineLength="
        + maxInitialLineLength
        + ", maxHeaderSize="
        + maxHeaderSize
        + ", waterMarks="
        + lowWaterMark
        + ".."
        + highWaterMark
        + ", nonWebSocket="
        + nonWebSocket
        + ", forwardedHeaders="
        + forwardedHeaders
        + ", decideOnly="
        + decideOnly
        + ", trustedProxies="
        + forwarding.trustedProxies()
        + "}";
  }

  /** Builds an {@link AffinityProxyConfig}; each setter validates its argument. */
  public static final class Builder {
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration handshakeTimeout = DEFAULT_HANDSHAKE_TIMEOUT;
    private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
    private int maxInitialLineLength = DEFAULT_MAX_INITIAL_LINE_LENGTH;
    private int maxHeaderSize = DEFAULT_MAX_HEADER_SIZE;
    private int maxHeaderCount = DEFAULT_MAX_HEADER_COUNT;
    private int maxErrorBodyBytes = DEFAULT_MAX_ERROR_BODY_BYTES;
    private int lowWaterMark = DEFAULT_LOW_WATER_MARK;
    private int highWaterMark = DEFAULT_HIGH_WATER_MARK;
    private NonWebSocketPolicy nonWebSocket = NonWebSocketPolicy.UPGRADE_REQUIRED;
    private boolean forwardedHeaders = true;
    private boolean decideOnly;
    private final List<Cidr> trustedProxies = new ArrayList<>();
    private Duration requestHeadTimeout = DEFAULT_REQUEST_HEAD_TIMEOUT;
    private @Nullable SSLContext backendSslContext;
    private TunnelListener tunnelListener = TunnelListener.NONE;
    private @Nullable LearnedAffinity learnedAffinity;

    private Builder() {}

    /**
     * How long a new connection may take to send a complete request head; past it the client gets
     * 408 and the connection is closed. The same setting and default as the Jetty adapter's.
     *
     * @throws dev.affinity.AffinityConfigurationException unless between 1 ms and 1 hour
     */
    public Builder requestHeadTimeout(Duration timeout) {
      this.requestHeadTimeout = AdapterSettings.timeout("requestHeadTimeout", timeout);
      return this;
    }

    /**
     * Adds trusted proxy ranges in CIDR notation ({@code 10.0.0.0/8}, {@code ::1}): the load
     * balancers in front of this one. Their {@code X-Forwarded-*} and {@code Forwarded} headers are
     * kept and appended to, and their PROXY protocol source is written as the client; from anyone
     * else those headers are replaced. Usually the same ranges as the router's {@code
     * ClientAddressResolver}. Default: none.
     *
     * @throws dev.affinity.AffinityConfigurationException if a range does not parse
     */
    public Builder trustedProxies(String... cidrs) {
      for (String c : cidrs) {
        trustedProxies.add(Cidr.parse(c));
      }
      return this;
    }

    /**
     * Sets the backend connect timeout.
     *
     * @throws dev.affinity.AffinityConfigurationException unless between 1 ms and 1 hour
     */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = positive("connectTimeout", timeout);
      return this;
    }

    /**
     * Sets the backend handshake timeout.
     *
     * @throws dev.affinity.AffinityConfigurationException unless between 1 ms and 1 hour
     */
    public Builder handshakeTimeout(Duration timeout) {
      this.handshakeTimeout = positive("handshakeTimeout", timeout);
      return this;
    }

    /**
     * Sets the tunnel idle timeout; {@link Duration#ZERO} disables it. The same setting, bounds and
     * default as the Jetty adapter's.
     *
     * @throws dev.affinity.AffinityConfigurationException unless zero or between 1 ms and 7 days
     */
    public Builder idleTimeout(Duration timeout) {
      this.idleTimeout = AdapterSettings.idleTimeout("idleTimeout", timeout);
      return this;
    }

    /**
     * Sets the longest accepted request or status line.
     *
     * @throws dev.affinity.AffinityConfigurationException unless 256..65536
     */
    public Builder maxInitialLineLength(int bytes) {
      check(bytes >= 256 && bytes <= 65536, "maxInitialLineLength", bytes, "256..65536");
      this.maxInitialLineLength = bytes;
      return this;
    }

    /**
     * Sets the most accepted header bytes of a head.
     *
     * @throws dev.affinity.AffinityConfigurationException unless 1024..1048576
     */
    public Builder maxHeaderSize(int bytes) {
      check(bytes >= 1024 && bytes <= 1 << 20, "maxHeaderSize", bytes, "1024..1048576");
      this.maxHeaderSize = bytes;
      return this;
    }

    /**
     * The most header fields a handshake may carry; more get 431. The same setting, bounds and
     * default as the Jetty adapter's.
     *
     * @throws dev.affinity.AffinityConfigurationException unless 8 to 10000
     */
    public Builder maxHeaderCount(int count) {
      this.maxHeaderCount = AdapterSettings.maxHeaderCount(count);
      return this;
    }

    /**
     * How much of a backend's non-101 response body (an error page, say) is relayed to the client;
     * the rest is dropped, and the client gets a {@code Content-Length} for what is relayed. The
     * body is read within the handshake timeout. The same setting, bounds and default as the Jetty
     * adapter's.
     *
     * @throws dev.affinity.AffinityConfigurationException unless 0 to 16 MiB
     */
    public Builder maxErrorBodyBytes(int bytes) {
      this.maxErrorBodyBytes = AdapterSettings.maxErrorBodyBytes(bytes);
      return this;
    }

    /**
     * Sets the write-buffer water marks of both legs.
     *
     * @throws dev.affinity.AffinityConfigurationException unless {@code 0 < low <= high}
     */
    public Builder writeBufferWaterMarks(int low, int high) {
      check(low > 0, "lowWaterMark", low, "> 0");
      check(high >= low, "highWaterMark", high, ">= lowWaterMark (" + low + ")");
      this.lowWaterMark = low;
      this.highWaterMark = high;
      return this;
    }

    /** Sets what happens to requests that are not WebSocket upgrades; default 426. */
    public Builder nonWebSocket(NonWebSocketPolicy policy) {
      this.nonWebSocket = requireNonNull(policy, "nonWebSocket");
      return this;
    }

    /**
     * Whether to write {@code X-Forwarded-For}, {@code -Proto}, {@code -Host}, {@code -Port} and
     * {@code Forwarded} (default true); false passes the client's as they are.
     */
    public Builder forwardedHeaders(boolean add) {
      this.forwardedHeaders = add;
      return this;
    }

    /**
     * The TLS context for backends reached over TLS: those whose metadata {@code scheme} is {@code
     * wss} (the proxy's {@code uri=wss://…}). Their certificate is verified by this context's trust
     * managers and their host name checked (endpoint identification {@code HTTPS}); the host name
     * is sent as SNI. Default: the JVM's default context, that is its trust store.
     */
    public Builder backendSslContext(SSLContext context) {
      this.backendSslContext = requireNonNull(context, "context");
      return this;
    }

    /**
     * Hears how each routed handshake was answered (status, time) and how each tunnel ended
     * (duration, bytes each way, close code), for an access log; default none.
     */
    public Builder tunnelListener(TunnelListener listener) {
      this.tunnelListener = requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Learns from each backend's 101 ("sticky learn"): when a backend opens a tunnel, the value its
     * 101 sets in the {@linkplain LearnedAffinity#carrier() carrier} (a cookie or header) is stored
     * as value → that backend, held while the tunnel is open and left to its time to live after.
     * Put the same {@code learned} in the router's strategy chain, first, so that a later handshake
     * carrying the value goes back to that backend. A failing store never fails the handshake: the
     * value is just not learned (logged and counted by {@link LearnedAffinity#learnFailures()}).
     * Proxy mode only: in {@link #decideOnly decide-only} mode the application answers the
     * handshake itself. Default: none. The same option as the Jetty adapter's {@code
     * AffinityHandler.Builder.learnedAffinity}.
     *
     * <pre>{@code
     * LearnedAffinity learned = AffinityStrategy.learned(
     *     LearnedStore.inMemory(key, Duration.ofHours(1)), LearnedCarrier.cookie("JSESSIONID"));
     * Router router = Router.builder(group).strategy(learned).strategy(hash).build();
     * AffinityProxyConfig config = AffinityProxyConfig.builder().learnedAffinity(learned).build();
     * }</pre>
     */
    public Builder learnedAffinity(LearnedAffinity learned) {
      this.learnedAffinity = requireNonNull(learned, "learned");
      return this;
    }

    /** Whether to only decide and pass the request on; default false (decide and proxy). */
    public Builder decideOnly(boolean decideOnly) {
      this.decideOnly = decideOnly;
      return this;
    }

    /** Builds the configuration. */
    public AffinityProxyConfig build() {
      return new AffinityProxyConfig(this);
    }

    private static Duration positive(String field, Duration d) {
      return AdapterSettings.timeout(field, d);
    }
  }
}

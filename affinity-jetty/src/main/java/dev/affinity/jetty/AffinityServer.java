package dev.affinity.jetty;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.Router;
import dev.affinity.internal.http.AdapterSettings;
import dev.affinity.internal.tls.PemTls;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLParameters;
import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ProxyConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.jspecify.annotations.Nullable;

/**
 * A ready WebSocket load balancer: a Jetty {@link Server} with one HTTP/1.1 connector (optionally
 * behind the PROXY protocol, optionally TLS: {@link Builder#tls}) and an {@link AffinityHandler}.
 *
 * <pre>{@code
 * try (AffinityServer lb = AffinityServer.builder(AffinityHandler.builder(router).build())
 *     .port(8080)
 *     .build()
 *     .start()) {
 *   lb.join();
 * }
 * }</pre>
 *
 * <p>Plain HTTP requests get 426 unless you give the handler a wrapped handler ({@code
 * handler.setHandler(...)}), or have the handler proxy them too ({@code
 * AffinityHandler.builder(router).proxyHttpPaths("/socket.io").build()}, see {@link
 * AffinityHandler.Builder#proxyHttp}). Jetty's {@code Server} header is not sent, and every error
 * answer (including Jetty's own for requests it cannot parse) carries {@code Connection: close}.
 * Its thread pool is bounded by the core count ({@code max(16, 4 × cores)} threads), since nothing
 * on the proxy path holds a thread; a wrapped handler that blocks for long wants a larger pool. For
 * anything more (several connectors, your own thread pool) build the {@code Server} yourself and
 * add the handler to it: that is all this class does.
 */
public final class AffinityServer implements AutoCloseable {
  /** How long {@link #close()} lets tunnels take their 1001 close frames before cutting them. */
  static final long STOP_TIMEOUT_MILLIS = 7_000;

  /** The fewest threads the server's pool may grow to, whatever the core count. */
  static final int MIN_MAX_THREADS = 16;

  private final Server server;
  private final ServerConnector connector;
  private final AffinityHandler handler;
  private final @Nullable Path tlsCertificateChain;
  private final @Nullable Path tlsPrivateKey;
  private final Duration tlsCheckInterval;
  private final SslContextFactory.@Nullable Server ssl;
  private volatile PemTls.@Nullable ServerMaterial tls;
  private volatile boolean closed;

  private AffinityServer(Builder b) {
    this.handler = b.handler;
    // Jetty parses requests into buffers of its own, not pooled: Jetty 12.1's HTTP/1 parser can
    // hand a request buffer back to its pool twice after a malformed request (seen with an
    // oversized head under load), and the next two connections then share it, so one client's
    // bytes were parsed as another's head (a 431 answered to a small request). A handshake-only
    // server parses one head per connection; a heap buffer per connection costs little. The
    // tunnels take pooled buffers from the handler's own pool.
    this.server = new Server(threadPool(), null, new ByteBufferPool.NonPooling());
    handler.offerBuffers(b.bufferPool != null ? b.bufferPool : new ArrayByteBufferPool());
    HttpConfiguration http = new HttpConfiguration();
    http.setUseInputDirectByteBuffers(false);
    http.setUseOutputDirectByteBuffers(false);
    http.setSendServerVersion(false);
    http.setRequestHeaderSize(b.requestHeaderSize);
    // Forward field names and values in the case the client sent them, as the Netty adapter,
    // HAProxy and NGINX do: Jetty's case-insensitive field cache would rewrite "connection:
    // upgrade" as "Connection: Upgrade".
    http.setHeaderCacheCaseSensitive(true);
    this.tlsCertificateChain = b.tlsCertificateChain;
    this.tlsPrivateKey = b.tlsPrivateKey;
    this.tlsCheckInterval = b.tlsCheckInterval;
    SslContextFactory.Server sslFactory = null;
    if (b.tlsCertificateChain != null && b.tlsPrivateKey != null) {
      PemTls.ServerMaterial material = PemTls.server(b.tlsCertificateChain, b.tlsPrivateKey);
      this.tls = material;
      sslFactory = new AlpnHttp11SslContextFactory();
      sslFactory.setSslContext(material.sslContext());
      sslFactory.setIncludeProtocols(PemTls.PROTOCOLS.toArray(new String[0]));
      // No SNI checks: a WebSocket proxy is reached by whatever name its clients use.
      http.addCustomizer(new SecureRequestCustomizer(false, false, -1, false));
    }
    this.ssl = sslFactory;
    HttpConnectionFactory h1 = new HttpConnectionFactory(http);
    List<ConnectionFactory> factories = new ArrayList<>();
    factories.add(h1);
    if (sslFactory != null) {
      factories.add(0, new SslConnectionFactory(sslFactory, h1.getProtocol()));
    }
    if (b.proxyProtocol) {
      factories.add(0, new ProxyConnectionFactory(factories.get(0).getProtocol()));
    }
    this.connector = new ServerConnector(server, factories.toArray(new ConnectionFactory[0]));
    connector.setHost(b.host);
    connector.setPort(b.port);
    server.addConnector(connector);
    server.setErrorHandler(new CloseOnErrorHandler());
    // A graceful stop: tunnels get 1001 close frames (at most 5 s to reach a frame boundary).
    server.setStopTimeout(STOP_TIMEOUT_MILLIS);
    server.setHandler(handler);
  }

  /**
   * The server's threads: at most {@code max(16, 4 × cores)}, not Jetty's default of 200. Nothing
   * on the proxy path holds a thread: handshakes wait on callbacks, and tunnels are relayed by the
   * selectors. What the pool runs are short tasks (a new connection's endpoint, a request head, a
   * backend's answer, a host-name lookup), so workers beyond a few per core only queue for the CPU.
   * Jetty's default pool starts a thread for each task it cannot hand to an idle one, so a burst of
   * handshakes grew it to its maximum, and idle threads leave it one at a time per minute. On two
   * cores: the acceptor, the server's and the backend connector's selectors, and 13 workers.
   */
  static QueuedThreadPool threadPool() {
    int cores = Runtime.getRuntime().availableProcessors();
    QueuedThreadPool pool = new QueuedThreadPool(Math.max(MIN_MAX_THREADS, 4 * cores));
    pool.setName("affinity-jetty");
    return pool;
  }

  /**
   * Returns a builder for a server routing with {@code router} through an {@link AffinityHandler}
   * with default settings: the same shape as the Netty adapter's {@code
   * AffinityProxyServer.builder(router)}, then {@code build()} and {@code start()}.
   */
  public static Builder builder(Router router) {
    return builder(AffinityHandler.builder(requireNonNull(router, "router")).build());
  }

  /** Returns a builder for a server around {@code handler} (configured by its own builder). */
  public static Builder builder(AffinityHandler handler) {
    return new Builder(requireNonNull(handler, "handler"));
  }

  /**
   * Starts a load balancer on {@code port} of every interface with a default {@link
   * AffinityHandler} for {@code router}.
   *
   * @throws Exception if Jetty cannot start (for example, the port is taken)
   */
  public static AffinityServer start(Router router, int port) throws Exception {
    return builder(AffinityHandler.builder(router).build()).port(port).build().start();
  }

  /**
   * Starts the server; returns this.
   *
   * @throws Exception if Jetty cannot start (for example, the port is taken)
   */
  public AffinityServer start() throws Exception {
    server.start();
    if (ssl != null && !tlsCheckInterval.isZero()) {
      scheduleTlsCheck();
    }
    return this;
  }

  private void scheduleTlsCheck() {
    if (closed) {
      return;
    }
    server
        .getScheduler()
        .schedule(
            () -> {
              try {
                reloadTls();
              } catch (IllegalArgumentException e) {
                // A half-written renewal is the common case: keep the old pair, look again later.
                System.getLogger(AffinityServer.class.getName())
                    .log(
                        System.Logger.Level.WARNING,
                        "tls: keeping the current certificate: {0}",
                        e.getMessage());
              } finally {
                scheduleTlsCheck();
              }
            },
            tlsCheckInterval.toMillis(),
            TimeUnit.MILLISECONDS);
  }

  /**
   * Reads the certificate chain and key files again and serves them from the next handshake on;
   * open tunnels keep their session. The server also does this by itself when the files change (see
   * {@link Builder#tlsCheckInterval}).
   *
   * @return true if the files changed since they were last read (and were loaded), false if not
   * @throws IllegalArgumentException naming the file and the reason if a file cannot be used: the
   *     certificate served so far is kept
   * @throws IllegalStateException if the server has no TLS listener
   */
  public boolean reloadTls() {
    Path chain = tlsCertificateChain;
    Path key = tlsPrivateKey;
    SslContextFactory.Server factory = ssl;
    PemTls.ServerMaterial current = tls;
    if (chain == null || key == null || factory == null || current == null) {
      throw new IllegalStateException("no TLS listener: " + this);
    }
    if (PemTls.stamp(chain, key).equals(current.stamp())) {
      return false;
    }
    PemTls.ServerMaterial next = PemTls.server(chain, key);
    try {
      factory.reload(f -> f.setSslContext(next.sslContext()));
    } catch (Exception e) {
      throw new IllegalArgumentException("tls certificate: " + chain + ": " + e.getMessage(), e);
    }
    tls = next;
    System.getLogger(AffinityServer.class.getName())
        .log(
            System.Logger.Level.INFO,
            "tls: serving {0} (valid until {1}) from {2}",
            next.leaf().getSubjectX500Principal().getName(),
            next.leaf().getNotAfter().toInstant(),
            chain);
    return true;
  }

  /** The certificate the TLS listener serves to new handshakes; empty without TLS. */
  public Optional<X509Certificate> tlsCertificate() {
    PemTls.ServerMaterial m = tls;
    return m == null ? Optional.empty() : Optional.of(m.leaf());
  }

  /** The bound port (useful with port 0); -1 before {@link #start()}. */
  public int port() {
    return connector.getLocalPort();
  }

  /** Blocks until the server stops. */
  public void join() throws InterruptedException {
    server.join();
  }

  /** The Jetty server, for what this class does not configure. */
  public Server server() {
    return server;
  }

  /**
   * The tunnels open right now: a live, unmodifiable view, the same as {@code handler().tunnels()}.
   */
  public Collection<Tunnel> tunnels() {
    return handler.tunnels();
  }

  /** The handler doing the routing; its {@link AffinityHandler#tunnels()} lists live tunnels. */
  public AffinityHandler handler() {
    return handler;
  }

  /**
   * Stops the server gracefully: no new connections, 503 {@code proxy is stopping} for handshakes
   * still arriving, a 1001 close frame on every tunnel, then every connection closed. Never throws.
   */
  @Override
  public void close() {
    closed = true;
    try {
      server.stop();
    } catch (Exception e) {
      System.getLogger(AffinityServer.class.getName())
          .log(System.Logger.Level.WARNING, "stopping the Jetty server failed", e);
    }
  }

  @Override
  public String toString() {
    return "AffinityServer{port=" + port() + ", " + handler + "}";
  }

  /**
   * Builds an {@link AffinityServer}; obtain one from {@link AffinityServer#builder}. Defaults:
   * every interface, port 0 (ephemeral), no PROXY protocol, 8 KiB request headers.
   */
  public static final class Builder {
    private final AffinityHandler handler;
    private @Nullable String host;
    private int port;
    private boolean proxyProtocol;
    private int requestHeaderSize = AffinityHandler.DEFAULT_MAX_HEAD_BYTES;
    private @Nullable ByteBufferPool bufferPool;
    private @Nullable Path tlsCertificateChain;
    private @Nullable Path tlsPrivateKey;
    private Duration tlsCheckInterval = PemTls.DEFAULT_CHECK_INTERVAL;

    private Builder(AffinityHandler handler) {
      this.handler = handler;
    }

    /** The interface to listen on, such as {@code "127.0.0.1"}; null (default) for all. */
    public Builder host(@Nullable String host) {
      if (host != null) {
        check(!host.isBlank(), "host", "'" + host + "'", "a host name or IP literal, or null");
      }
      this.host = host;
      return this;
    }

    /**
     * The port to listen on; 0 (default) picks a free one.
     *
     * @throws dev.affinity.AffinityConfigurationException unless 0..65535
     */
    public Builder port(int port) {
      check(port >= 0 && port <= 65_535, "port", port, "0..65535");
      this.port = port;
      return this;
    }

    /**
     * Whether clients connect through a load balancer that sends the PROXY protocol (v1 or v2). The
     * decoded source is offered to the router, which honours it only from trusted proxies.
     */
    public Builder proxyProtocol(boolean enabled) {
      this.proxyProtocol = enabled;
      return this;
    }

    /**
     * Jetty's limit on the request line and headers; larger requests get 431 from Jetty.
     *
     * @throws dev.affinity.AffinityConfigurationException unless 256 bytes to 1 MiB
     */
    public Builder requestHeaderSize(int bytes) {
      check(bytes >= 256 && bytes <= 1 << 20, "requestHeaderSize", bytes, "256..1048576");
      this.requestHeaderSize = bytes;
      return this;
    }

    /**
     * The buffer pool the tunnels and the connections to backends take their buffers from, unless
     * the handler's own builder named one; default a Jetty {@code ArrayByteBufferPool}. Jetty's
     * HTTP parsing of the handshakes uses unpooled heap buffers whatever this says (see {@link
     * AffinityHandler.Builder#byteBufferPool}). A {@code ArrayByteBufferPool.Tracking} pool finds
     * leaks in tests.
     */
    public Builder byteBufferPool(ByteBufferPool pool) {
      this.bufferPool = requireNonNull(pool, "pool");
      return this;
    }

    /**
     * Listen for TLS ({@code wss://}) with a PEM certificate chain (leaf first, then intermediates)
     * and its unencrypted PKCS#8 private key ({@code BEGIN PRIVATE KEY}). TLS 1.2 and 1.3 only;
     * ALPN offers {@code http/1.1}. The files are read by {@link #build()}, and again when they
     * change (see {@link #tlsCheckInterval}) or on {@link AffinityServer#reloadTls()}. Default:
     * plain TCP ({@code ws://}).
     */
    public Builder tls(Path certificateChain, Path privateKey) {
      this.tlsCertificateChain = requireNonNull(certificateChain, "certificateChain");
      this.tlsPrivateKey = requireNonNull(privateKey, "privateKey");
      return this;
    }

    /**
     * How often the TLS listener looks at its certificate and key files for a renewal; default 1 s,
     * {@link Duration#ZERO} to reload only on {@link AffinityServer#reloadTls()}. A renewal that
     * cannot be read is logged and the old pair kept.
     *
     * @throws dev.affinity.AffinityConfigurationException unless zero or 1 ms..1 h
     */
    public Builder tlsCheckInterval(Duration interval) {
      requireNonNull(interval, "interval");
      this.tlsCheckInterval = AdapterSettings.tlsCheckInterval(interval);
      return this;
    }

    /**
     * Returns a server that is not started yet.
     *
     * @throws IllegalArgumentException naming the file and the reason if a {@link #tls} file cannot
     *     be used
     */
    public AffinityServer build() {
      return new AffinityServer(this);
    }

    @Override
    public String toString() {
      return "AffinityServer.Builder{host=" + host + ", port=" + port + "}";
    }
  }

  /** Offers exactly {@code http/1.1} over ALPN (the JDK negotiates it; no Jetty ALPN module). */
  private static final class AlpnHttp11SslContextFactory extends SslContextFactory.Server {
    @Override
    public SSLParameters customize(SSLParameters parameters) {
      SSLParameters p = super.customize(parameters);
      p.setApplicationProtocols(new String[] {PemTls.ALPN_HTTP_1_1});
      return p;
    }
  }
}

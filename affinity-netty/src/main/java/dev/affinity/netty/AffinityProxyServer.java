package dev.affinity.netty;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.Router;
import dev.affinity.internal.http.AdapterSettings;
import dev.affinity.internal.http.ErrorAnswer;
import dev.affinity.internal.tls.PemTls;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * A ready WebSocket load balancer: a Netty server whose pipeline is {@code HttpServerCodec} +
 * {@link AffinityProxyHandler}, on epoll by default ({@link NettyTransport}), NIO where no native
 * transport loads. Its startup log line names the transport that runs and, after a fallback, why
 * the requested one could not load. With {@link Builder#tls} it listens for {@code wss://} (TLS 1.2
 * and 1.3, ALPN {@code http/1.1}) and serves a renewed certificate from the next handshake on,
 * without touching open tunnels.
 *
 * <pre>{@code
 * try (AffinityProxyServer lb = AffinityProxyServer.builder(router).port(8080).build().start()) {
 *   lb.awaitClose();
 * }
 * }</pre>
 */
public final class AffinityProxyServer implements AutoCloseable {
  /** How long {@link #close()} lets tunnels take their 1001 close frames before cutting them. */
  static final long SHUTDOWN_WAIT_MILLIS = 7_000;

  private static final System.Logger LOG = System.getLogger(AffinityProxyServer.class.getName());

  private final Router router;
  private final String host;
  private final int requestedPort;
  private final int ioThreads;
  private final NettyTransport requestedTransport;
  private final boolean proxyProtocol;
  private final AffinityProxyConfig config;
  private final Consumer<ChannelPipeline> customizer;
  private final Set<Tunnel> tunnels = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean stopping = new AtomicBoolean();
  private @Nullable EventLoopGroup group;
  private @Nullable Channel channel;
  private NettyTransport transport;
  private final @Nullable Path tlsCertificateChain;
  private final @Nullable Path tlsPrivateKey;
  private final Duration tlsCheckInterval;
  private volatile @Nullable ServerTls tls;
  private @Nullable ScheduledFuture<?> tlsCheck;

  /** The listener's TLS context and the certificate it serves. */
  private static final class ServerTls {
    final SslContext context;
    final PemTls.ServerMaterial material;

    ServerTls(SslContext context, PemTls.ServerMaterial material) {
      this.context = context;
      this.material = material;
    }
  }

  private AffinityProxyServer(Builder b) {
    this.router = b.router;
    this.host = b.host;
    this.requestedPort = b.port;
    this.ioThreads = b.ioThreads;
    this.requestedTransport = b.transport;
    this.proxyProtocol = b.proxyProtocol;
    this.config = b.config;
    this.customizer = b.customizer;
    this.transport = b.transport;
    this.tlsCertificateChain = b.tlsCertificateChain;
    this.tlsPrivateKey = b.tlsPrivateKey;
    this.tlsCheckInterval = b.tlsCheckInterval;
    if (b.tlsCertificateChain != null && b.tlsPrivateKey != null) {
      this.tls = serverTls(b.tlsCertificateChain, b.tlsPrivateKey);
    }
  }

  private static ServerTls serverTls(Path chain, Path key) {
    PemTls.ServerMaterial material = PemTls.server(chain, key);
    try {
      SslContext context =
          SslContextBuilder.forServer(material.keyManagers())
              .sslProvider(SslProvider.JDK)
              .protocols(PemTls.PROTOCOLS)
              .applicationProtocolConfig(
                  new ApplicationProtocolConfig(
                      ApplicationProtocolConfig.Protocol.ALPN,
                      ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                      ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                      PemTls.ALPN_HTTP_1_1))
              .build();
      return new ServerTls(context, material);
    } catch (javax.net.ssl.SSLException e) {
      throw new IllegalArgumentException("tls certificate: " + chain + ": " + e.getMessage(), e);
    }
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
    ServerTls current = tls;
    if (chain == null || key == null || current == null) {
      throw new IllegalStateException("no TLS listener: " + this);
    }
    if (PemTls.stamp(chain, key).equals(current.material.stamp())) {
      return false;
    }
    ServerTls next = serverTls(chain, key);
    tls = next;
    LOG.log(
        System.Logger.Level.INFO,
        "tls: serving {0} (valid until {1}) from {2}",
        next.material.leaf().getSubjectX500Principal().getName(),
        next.material.leaf().getNotAfter().toInstant(),
        chain);
    return true;
  }

  /** The certificate the TLS listener serves to new handshakes; empty without TLS. */
  public java.util.Optional<X509Certificate> tlsCertificate() {
    ServerTls t = tls;
    return t == null ? java.util.Optional.empty() : java.util.Optional.of(t.material.leaf());
  }

  private void checkTlsFiles() {
    try {
      reloadTls();
    } catch (IllegalArgumentException e) {
      // A half-written renewal is the common case: keep serving the old pair, try again later.
      LOG.log(
          System.Logger.Level.WARNING, "tls: keeping the current certificate: {0}", e.getMessage());
    }
  }

  /**
   * Binds and starts the server; returns this. Call it once.
   *
   * @throws InterruptedException if interrupted while binding
   * @throws io.netty.channel.ChannelException if the address cannot be bound
   * @throws IllegalStateException if already started, or closed
   */
  public synchronized AffinityProxyServer start() throws InterruptedException {
    if (group != null || stopping.get()) {
      throw new IllegalStateException("already started or closed: " + this);
    }
    Transports.Selection selection = Transports.select(requestedTransport);
    this.transport = selection.transport;
    EventLoopGroup g =
        new MultiThreadIoEventLoopGroup(ioThreads, Transports.ioHandlerFactory(transport));
    this.group = g;
    Channel ch;
    try {
      ch =
          new ServerBootstrap()
              .group(g)
              .channel(Transports.serverChannel(transport))
              .option(ChannelOption.SO_BACKLOG, 1024)
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childOption(
                  ChannelOption.WRITE_BUFFER_WATER_MARK,
                  new WriteBufferWaterMark(config.lowWaterMark(), config.highWaterMark()))
              .childHandler(
                  new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                      ChannelPipeline p = ch.pipeline();
                      if (proxyProtocol) {
                        p.addLast("haproxy", new HAProxyMessageDecoder());
                      }
                      ServerTls t = tls;
                      if (t != null) {
                        p.addLast("tls", t.context.newHandler(ch.alloc()));
                      }
                      p.addLast(
                          "http",
                          new HttpServerCodec(
                              config.maxInitialLineLength(), config.maxHeaderSize(), 8192));
                      p.addLast(
                          "affinity",
                          new AffinityProxyHandler(router, config, tunnels, stopping::get));
                      customizer.accept(p);
                    }
                  })
              .bind(host, requestedPort)
              .sync()
              .channel();
    } catch (InterruptedException | RuntimeException e) {
      g.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      throw e;
    }
    this.channel = ch;
    if (tls != null && !tlsCheckInterval.isZero()) {
      long every = tlsCheckInterval.toMillis();
      tlsCheck =
          g.next().scheduleWithFixedDelay(this::checkTlsFiles, every, every, TimeUnit.MILLISECONDS);
    }
    LOG.log(
        selection.fallbackReason == null ? System.Logger.Level.INFO : System.Logger.Level.WARNING,
        "affinity proxy listening on {0} (transport {1})",
        ch.localAddress(),
        selection.describe());
    return this;
  }

  /** Returns a builder for a server routing with {@code router}. */
  public static Builder builder(Router router) {
    return new Builder(requireNonNull(router, "router"));
  }

  /**
   * The bound address.
   *
   * @throws IllegalStateException before {@link #start()}
   */
  public InetSocketAddress localAddress() {
    Channel ch = channel;
    if (ch == null) {
      throw new IllegalStateException("not started: " + this);
    }
    return (InetSocketAddress) ch.localAddress();
  }

  /** The bound port (useful with port 0); -1 before {@link #start()}. */
  public int port() {
    Channel ch = channel;
    return ch == null ? -1 : ((InetSocketAddress) ch.localAddress()).getPort();
  }

  /**
   * The tunnels open right now (the backend answered 101 and bytes are relayed): a live,
   * unmodifiable view. Closing one closes both its legs and its lease; use it to enforce a drain
   * deadline or to move clients off a backend.
   */
  public Collection<Tunnel> tunnels() {
    return Collections.unmodifiableSet(tunnels);
  }

  /**
   * The transport the server runs on: the one {@link Builder#transport} asked for, or the one it
   * fell back to because the requested one could not load (logged at startup).
   */
  public NettyTransport transport() {
    return transport;
  }

  /**
   * Blocks until the server is closed.
   *
   * @throws InterruptedException if interrupted while waiting
   */
  public void awaitClose() throws InterruptedException {
    Channel ch = channel;
    if (ch != null) {
      ch.closeFuture().sync();
    }
  }

  /**
   * Stops gracefully and waits for all of it: stops accepting, answers handshakes still arriving
   * with 503 {@code proxy is stopping}, sends every open tunnel a 1001 close frame (between two
   * backend frames, at most 5 s later), then closes every connection and stops the event loops.
   * Does nothing before {@link #start()} and on a second call.
   */
  @Override
  public synchronized void close() {
    if (stopping.getAndSet(true)) {
      return; // closed already (idempotent)
    }
    ScheduledFuture<?> check = tlsCheck;
    if (check != null) {
      check.cancel(false);
    }
    Channel ch = channel;
    if (ch != null) {
      ch.close().syncUninterruptibly();
    }
    List<Tunnel> open = new ArrayList<>(tunnels);
    for (Tunnel t : open) {
      t.close(ErrorAnswer.SHUTDOWN_CLOSE_CODE, ErrorAnswer.PROXY_STOPPING);
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SHUTDOWN_WAIT_MILLIS);
    for (Tunnel t : open) {
      long left = deadline - System.nanoTime();
      if (left > 0) {
        t.clientChannel().closeFuture().awaitUninterruptibly(left, TimeUnit.NANOSECONDS);
      }
    }
    EventLoopGroup g = group;
    if (g != null) {
      g.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  @Override
  public String toString() {
    Channel ch = channel;
    return "AffinityProxyServer{"
        + (ch == null ? host + ":" + requestedPort + " (not started)" : ch.localAddress())
        + ", "
        + transport.displayName()
        + "}";
  }

  /** Builds an {@link AffinityProxyServer}. */
  public static final class Builder {
    private final Router router;
    private String host = "0.0.0.0";
    private int port = 8080;
    private int ioThreads;
    private NettyTransport transport = NettyTransport.EPOLL;
    private boolean proxyProtocol;
    private AffinityProxyConfig config = AffinityProxyConfig.defaults();
    private Consumer<ChannelPipeline> customizer = p -> {};
    private @Nullable Path tlsCertificateChain;
    private @Nullable Path tlsPrivateKey;
    private Duration tlsCheckInterval = PemTls.DEFAULT_CHECK_INTERVAL;

    private Builder(Router router) {
      this.router = router;
    }

    /** The address to bind; default {@code 0.0.0.0}. */
    public Builder host(String host) {
      this.host = requireNonNull(host, "host");
      return this;
    }

    /**
     * The port to bind, 0 for an ephemeral one; default 8080.
     *
     * @throws dev.affinity.AffinityConfigurationException unless 0..65535
     */
    public Builder port(int port) {
      check(port >= 0 && port <= 65535, "port", port, "0..65535");
      this.port = port;
      return this;
    }

    /**
     * Event loop threads; 0 (the default) lets Netty choose (twice the cores).
     *
     * @throws dev.affinity.AffinityConfigurationException if negative
     */
    public Builder ioThreads(int threads) {
      check(threads >= 0, "ioThreads", threads, ">= 0");
      this.ioThreads = threads;
      return this;
    }

    /**
     * The transport to run on; default {@link NettyTransport#EPOLL}. A native transport that cannot
     * load falls back (io_uring → epoll → NIO), and the startup line says why; {@link
     * AffinityProxyServer#transport()} tells which one runs.
     */
    public Builder transport(NettyTransport transport) {
      this.transport = requireNonNull(transport, "transport");
      return this;
    }

    /**
     * Whether clients arrive through a load balancer speaking the PROXY protocol (v1 or v2); the
     * decoded source address reaches the router. Default false. Enable only when every peer is such
     * a load balancer: a PROXY header is then required on each connection.
     */
    public Builder proxyProtocol(boolean enabled) {
      this.proxyProtocol = enabled;
      return this;
    }

    /** The handler's configuration; default {@link AffinityProxyConfig#defaults()}. */
    public Builder config(AffinityProxyConfig config) {
      this.config = requireNonNull(config, "config");
      return this;
    }

    /**
     * Called for each new client pipeline after the proxy's handlers were added: add logging,
     * metrics, or the handler that serves requests passed on by {@link NonWebSocketPolicy#PASS}.
     */
    public Builder pipeline(Consumer<ChannelPipeline> customizer) {
      this.customizer = requireNonNull(customizer, "customizer");
      return this;
    }

    /**
     * Listen for TLS ({@code wss://}) with a PEM certificate chain (leaf first, then intermediates)
     * and its unencrypted PKCS#8 private key ({@code BEGIN PRIVATE KEY}). TLS 1.2 and 1.3 only;
     * ALPN offers {@code http/1.1}. The files are read by {@link #build()}, and again when they
     * change (see {@link #tlsCheckInterval}) or on {@link AffinityProxyServer#reloadTls()}.
     * Default: plain TCP ({@code ws://}).
     */
    public Builder tls(Path certificateChain, Path privateKey) {
      this.tlsCertificateChain = requireNonNull(certificateChain, "certificateChain");
      this.tlsPrivateKey = requireNonNull(privateKey, "privateKey");
      return this;
    }

    /**
     * How often the TLS listener looks at its certificate and key files for a renewal; default 1 s,
     * {@link Duration#ZERO} to reload only on {@link AffinityProxyServer#reloadTls()}. A renewal
     * that cannot be read is logged and the old pair kept.
     *
     * @throws dev.affinity.AffinityConfigurationException unless zero or 1 ms..1 h
     */
    public Builder tlsCheckInterval(Duration interval) {
      requireNonNull(interval, "interval");
      this.tlsCheckInterval = AdapterSettings.tlsCheckInterval(interval);
      return this;
    }

    /**
     * Returns a server that is not started yet: call {@link AffinityProxyServer#start()}.
     *
     * @throws IllegalArgumentException naming the file and the reason if a {@link #tls} file cannot
     *     be used
     */
    public AffinityProxyServer build() {
      return new AffinityProxyServer(this);
    }
  }
}

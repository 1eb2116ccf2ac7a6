package dev.affinity.netty;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.Router;
import dev.affinity.internal.http.ErrorAnswer;
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
import java.net.InetSocketAddress;
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
 * the requested one could not load.
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

    /** Returns a server that is not started yet: call {@link AffinityProxyServer#start()}. */
    public AffinityProxyServer build() {
      return new AffinityProxyServer(this);
    }
  }
}

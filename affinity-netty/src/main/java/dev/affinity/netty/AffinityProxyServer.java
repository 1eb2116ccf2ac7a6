package dev.affinity.netty;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.Router;
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
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A ready WebSocket load balancer: a Netty server whose pipeline is {@code HttpServerCodec} +
 * {@link AffinityProxyHandler}, on epoll by default ({@link NettyTransport}), NIO where no native
 * transport loads. Its startup log line names the transport that runs and, after a fallback, why
 * the requested one could not load.
 *
 * <pre>{@code
 * try (AffinityProxyServer lb = AffinityProxyServer.builder(router).port(8080).start()) {
 *   lb.awaitClose();
 * }
 * }</pre>
 */
public final class AffinityProxyServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(AffinityProxyServer.class.getName());

  private final EventLoopGroup group;
  private final Channel channel;
  private final NettyTransport transport;

  private AffinityProxyServer(Builder b) throws InterruptedException {
    Transports.Selection selection = Transports.select(b.transport);
    this.transport = selection.transport;
    this.group =
        new MultiThreadIoEventLoopGroup(b.ioThreads, Transports.ioHandlerFactory(transport));
    AffinityProxyConfig config = b.config;
    Router router = b.router;
    boolean proxyProtocol = b.proxyProtocol;
    Consumer<ChannelPipeline> customizer = b.customizer;
    try {
      this.channel =
          new ServerBootstrap()
              .group(group)
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
                      p.addLast("affinity", new AffinityProxyHandler(router, config));
                      customizer.accept(p);
                    }
                  })
              .bind(b.host, b.port)
              .sync()
              .channel();
    } catch (InterruptedException | RuntimeException e) {
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      throw e;
    }
    LOG.log(
        selection.fallbackReason == null ? System.Logger.Level.INFO : System.Logger.Level.WARNING,
        "affinity proxy listening on {0} (transport {1})",
        channel.localAddress(),
        selection.describe());
  }

  /** Returns a builder for a server routing with {@code router}. */
  public static Builder builder(Router router) {
    return new Builder(requireNonNull(router, "router"));
  }

  /** The bound address. */
  public InetSocketAddress localAddress() {
    return (InetSocketAddress) channel.localAddress();
  }

  /** The bound port. */
  public int port() {
    return localAddress().getPort();
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
    channel.closeFuture().sync();
  }

  /** Stops accepting, closes every connection and stops the event loops; waits for all of it. */
  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Override
  public String toString() {
    return "AffinityProxyServer{" + channel.localAddress() + ", " + transport.displayName() + "}";
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

    /**
     * Binds and starts the server.
     *
     * @throws InterruptedException if interrupted while binding
     * @throws io.netty.channel.ChannelException if the address cannot be bound
     */
    public AffinityProxyServer start() throws InterruptedException {
      return new AffinityProxyServer(this);
    }
  }
}

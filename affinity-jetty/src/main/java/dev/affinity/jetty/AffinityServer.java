package dev.affinity.jetty;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.Router;
import java.util.Collection;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ProxyConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.jspecify.annotations.Nullable;

/**
 * A ready WebSocket load balancer: a Jetty {@link Server} with one HTTP/1.1 connector (optionally
 * behind the PROXY protocol) and an {@link AffinityHandler}.
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
 * <p>Plain HTTP requests get 404 unless you give the handler a wrapped handler ({@code
 * handler.setHandler(...)}). Jetty's {@code Server} header is not sent, and every error answer
 * (including Jetty's own for requests it cannot parse) carries {@code Connection: close}. For
 * anything more (TLS, several connectors, your own thread pool) build the {@code Server} yourself
 * and add the handler to it: that is all this class does.
 */
public final class AffinityServer implements AutoCloseable {
  /** How long {@link #close()} lets tunnels take their 1001 close frames before cutting them. */
  static final long STOP_TIMEOUT_MILLIS = 7_000;

  private final Server server;
  private final ServerConnector connector;
  private final AffinityHandler handler;

  private AffinityServer(Builder b) {
    this.handler = b.handler;
    this.server = b.bufferPool == null ? new Server() : new Server(null, null, b.bufferPool);
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setRequestHeaderSize(b.requestHeaderSize);
    // Forward field names and values in the case the client sent them, as the Netty adapter,
    // HAProxy and NGINX do: Jetty's case-insensitive field cache would rewrite "connection:
    // upgrade" as "Connection: Upgrade".
    http.setHeaderCacheCaseSensitive(true);
    HttpConnectionFactory h1 = new HttpConnectionFactory(http);
    this.connector =
        b.proxyProtocol
            ? new ServerConnector(server, new ProxyConnectionFactory(h1.getProtocol()), h1)
            : new ServerConnector(server, h1);
    connector.setHost(b.host);
    connector.setPort(b.port);
    server.addConnector(connector);
    server.setErrorHandler(new CloseOnErrorHandler());
    // A graceful stop: tunnels get 1001 close frames (at most 5 s to reach a frame boundary).
    server.setStopTimeout(STOP_TIMEOUT_MILLIS);
    server.setHandler(handler);
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
    return this;
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
     * The buffer pool the server, its connector and the tunnels share; default Jetty's {@code
     * ArrayByteBufferPool}. A {@code ArrayByteBufferPool.Tracking} pool finds leaks in tests.
     */
    public Builder byteBufferPool(ByteBufferPool pool) {
      this.bufferPool = requireNonNull(pool, "pool");
      return this;
    }

    /** Returns a server that is not started yet. */
    public AffinityServer build() {
      return new AffinityServer(this);
    }

    @Override
    public String toString() {
      return "AffinityServer.Builder{host=" + host + ", port=" + port + "}";
    }
  }
}

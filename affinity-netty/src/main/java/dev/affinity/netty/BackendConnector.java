package dev.affinity.netty;

import dev.affinity.Router;
import dev.affinity.backend.Backend;
import dev.affinity.internal.http.ErrorAnswer;
import dev.affinity.internal.tls.PemTls;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.ssl.SslHandler;
import java.lang.System.Logger.Level;
import java.net.ConnectException;
import java.time.Duration;
import java.util.List;

/**
 * Opens the backend leg of one {@link ProxyConnection}: the decided backend first, then each of the
 * decision's failover candidates in order, every attempt on the client's event loop (the legs share
 * it) with the configured connect timeout. A {@code wss} backend gets a TLS handler ahead of the
 * HTTP codec. Every failed attempt is reported to the router (passive health) before the next one
 * starts; when no candidate is left, the client is answered 502.
 *
 * <p>A connected leg's pipeline is {@code tls} (wss only), {@link #CODEC}, {@link #HANDSHAKE} (that
 * attempt's {@link BackendHandshake}) until the 101, when {@link LiveTunnel} rewires it.
 */
final class BackendConnector {
  private static final System.Logger LOG = System.getLogger(BackendConnector.class.getName());

  /** The name of the backend leg's HTTP client codec until the 101. */
  static final String CODEC = "affinity-backend-codec";

  /** The name of the backend leg's {@link BackendHandshake} until the 101. */
  static final String HANDSHAKE = "affinity-backend-handshake";

  private final ProxyConnection connection;
  private final Router router;
  private final AffinityProxyConfig config;
  private int failovers;

  /** A connector for {@code connection}, reporting failed attempts to {@code router}. */
  BackendConnector(ProxyConnection connection, Router router, AffinityProxyConfig config) {
    this.connection = connection;
    this.router = router;
    this.config = config;
  }

  /** Connects to {@code target}; the outcome goes to the connection or to {@link #failed}. */
  void connect(Backend target) {
    connection.connecting(target);
    Channel client = connection.clientChannel();
    BackendHandshake handshake = new BackendHandshake(connection, target, config);
    Bootstrap b =
        new Bootstrap()
            .group(client.eventLoop())
            .channelFactory(Transports.socketChannelFactory(client))
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, millis(config.connectTimeout()))
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .option(
                ChannelOption.WRITE_BUFFER_WATER_MARK,
                new WriteBufferWaterMark(config.lowWaterMark(), config.highWaterMark()))
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    if (PemTls.isTls(target)) {
                      // Ahead of the codec, and of the relay that replaces it after the 101.
                      ch.pipeline()
                          .addLast(
                              "tls",
                              new SslHandler(
                                  PemTls.clientEngine(config.backendSslContext(), target)));
                    }
                    ch.pipeline()
                        .addLast(
                            CODEC,
                            new HttpClientCodec(
                                config.maxInitialLineLength(), config.maxHeaderSize(), 8192))
                        .addLast(HANDSHAKE, handshake);
                  }
                });
    ChannelFuture f = b.connect(target.socketAddress());
    f.addListener((ChannelFutureListener) done -> connected(target, handshake, done));
  }

  private void connected(Backend target, BackendHandshake handshake, ChannelFuture f) {
    if (connection.isClosed()) {
      f.channel().close();
      return;
    }
    if (!f.isSuccess()) {
      failed(target, f.cause());
      return;
    }
    Channel ch = f.channel();
    if (ch.localAddress() != null && ch.localAddress().equals(ch.remoteAddress())) {
      // TCP simultaneous open: nothing listens on the backend's port and the kernel picked that
      // very port as our source, so we are connected to ourselves. Possible on loopback.
      ch.close();
      failed(target, new ConnectException("self-connect: nothing listens on " + target));
      return;
    }
    connection.connected(target, ch, handshake);
  }

  /** Reports {@code cause} against {@code target} to the router's passive health checks. */
  void report(Backend target, Throwable cause) {
    router.reportConnectFailure(target, cause);
  }

  /**
   * The attempt on {@code target} failed before any answer reached the client: reported, then the
   * next candidate is tried, or the client gets 502 when none is left.
   */
  void failed(Backend target, Throwable cause) {
    report(target, cause);
    LOG.log(Level.DEBUG, "connect to {0} failed: {1}", target.id(), cause);
    List<Backend> next = connection.decision().failoverCandidates();
    if (failovers < next.size()) {
      connect(next.get(failovers++));
    } else {
      connection.failClient(HttpResponseStatus.BAD_GATEWAY, ErrorAnswer.NO_BACKEND_REACHABLE);
    }
  }

  private static int millis(Duration d) {
    return (int) Math.min(Integer.MAX_VALUE, d.toMillis());
  }
}

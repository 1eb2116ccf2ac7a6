package dev.affinity.netty;

import dev.affinity.RoutingDecision;
import dev.affinity.backend.Backend;
import dev.affinity.internal.WebSocketFrameTracker;
import dev.affinity.internal.http.CloseFrameWait;
import dev.affinity.internal.http.TunnelAccounting;
import dev.affinity.strategy.LearnedStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.HttpContentCompressor;
import io.netty.handler.codec.http.HttpContentDecompressor;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpObjectDecoder;
import io.netty.handler.codec.http.HttpObjectEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.lang.System.Logger.Level;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The tunnel after the backend's 101: relays bytes both ways with back-pressure ({@link
 * RelayHandler} on each leg), relays the bytes the client pipelined behind its upgrade request
 * first, passes a half close on, closes with a WebSocket close frame between two backend frames
 * ({@link CloseFrameWait}), lingers at most {@link #CLOSE_LINGER_MILLIS} on a leg that does not
 * take its last bytes, ends idle legs, and accounts for the {@link
 * dev.affinity.metrics.TunnelListener} and the server's {@link AffinityProxyServer#tunnels()}. Max
 * lifetime, drain deadlines and re-homing reach it through the lease's closer, which the {@link
 * ProxyConnection} handle forwards here.
 *
 * <p>All of it runs on the client's event loop (the backend leg shares it); the handle hops there.
 */
final class LiveTunnel {
  private static final System.Logger LOG = System.getLogger(LiveTunnel.class.getName());

  /** The name of the {@link RelayHandler} on both legs. */
  static final String RELAY = "affinity-relay";

  /** The name of the idle-timeout handler on both legs (absent when the timeout is disabled). */
  static final String IDLE = "affinity-idle";

  /**
   * How long a closing leg may take to flush what is queued for it before it is closed anyway. A
   * peer that stopped reading would otherwise keep the channel, and the bytes queued for it, until
   * the idle timeout.
   */
  static final long CLOSE_LINGER_MILLIS = 5_000;

  private final ProxyConnection handle;
  private final ChannelHandlerContext clientCtx;
  private final Channel client;
  private final Channel backendLeg;
  private final Backend backend;
  private final AffinityProxyConfig config;
  private final TunnelAccounting accounting;
  private final Set<Tunnel> openTunnels;
  private final LearnedStore.Hold learnedHold;
  private final WebSocketFrameTracker backendFrames = new WebSocketFrameTracker();
  private final CloseFrameWait closeWait = new CloseFrameWait();
  private boolean closed;
  private boolean clientInputShut;
  private boolean backendInputShut;

  /**
   * The tunnel of {@code handle} between its client and {@code backendLeg} (to {@code backend}),
   * holding {@code learnedHold} until it ends and listed in {@code openTunnels} while open.
   */
  LiveTunnel(
      ProxyConnection handle,
      ChannelHandlerContext clientCtx,
      Channel backendLeg,
      Backend backend,
      AffinityProxyConfig config,
      TunnelAccounting accounting,
      Set<Tunnel> openTunnels,
      LearnedStore.Hold learnedHold) {
    this.handle = handle;
    this.clientCtx = clientCtx;
    this.client = clientCtx.channel();
    this.backendLeg = backendLeg;
    this.backend = backend;
    this.config = config;
    this.accounting = accounting;
    this.openTunnels = openTunnels;
    this.learnedHold = learnedHold;
  }

  /**
   * Sends the backend's 101 (with our cookie already added) to the client, rewires both pipelines
   * into byte relays, relays {@code early} (what the client pipelined behind its request, or null)
   * to the backend and starts reading from the client.
   */
  void open(HttpResponse switching, @Nullable CompositeByteBuf early) {
    clientCtx.write(switching);
    clientCtx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    handle.answered(HttpResponseStatus.SWITCHING_PROTOCOLS.code());
    accounting.opened();

    // Client leg: the relay replaces the proxy handler first, so bytes the HTTP decoder still
    // holds reach it.
    ChannelPipeline cp = client.pipeline();
    cp.replace(clientCtx.handler(), RELAY, new RelayHandler(this, backendLeg, null));
    removeHttpHandlers(cp);
    client
        .config()
        .setWriteBufferWaterMark(
            new WriteBufferWaterMark(config.lowWaterMark(), config.highWaterMark()));
    client.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);

    // Backend leg: bytes that came in the same read as the 101 are forwarded by the codec's
    // removal (or already came to us raw), and are written after the 101.
    ChannelPipeline bp = backendLeg.pipeline();
    bp.replace(BackendConnector.HANDSHAKE, RELAY, new RelayHandler(this, client, backendFrames));
    bp.remove(BackendConnector.CODEC);
    long idle = config.idleTimeout().toMillis();
    if (idle > 0) {
      cp.addBefore(RELAY, IDLE, new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS));
      bp.addBefore(RELAY, IDLE, new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS));
    }
    client.flush();
    if (early != null) {
      relayed(client, early, early.readerIndex(), early.writerIndex());
      backendLeg.writeAndFlush(early);
    }
    client.config().setAutoRead(true);
    openTunnels.add(handle);
    client
        .closeFuture()
        .addListener(
            done -> {
              openTunnels.remove(handle);
              learnedHold.close();
              ended();
            });
  }

  private static void removeHttpHandlers(ChannelPipeline p) {
    for (String name : p.names()) {
      ChannelHandler h = p.get(name);
      if (h instanceof HttpServerCodec
          || h instanceof HttpObjectDecoder
          || h instanceof HttpObjectEncoder
          || h instanceof HttpObjectAggregator
          || h instanceof HttpServerKeepAliveHandler
          || h instanceof HttpServerExpectContinueHandler
          || h instanceof HttpContentCompressor
          || h instanceof HttpContentDecompressor) {
        p.remove(h);
      }
    }
  }

  /** The client leg closed: the listener hears how long and how much, once. */
  private void ended() {
    if (accounting.ended()) {
      RoutingDecision decision = handle.decision();
      TunnelAccounting.notify(
          () ->
              config
                  .tunnelListener()
                  .tunnelClosed(
                      decision,
                      backend,
                      accounting.openFor(),
                      accounting.bytesFromClient(),
                      accounting.bytesFromBackend(),
                      accounting.closeCode()));
    }
  }

  /**
   * Bytes from {@code start} to {@code end} of {@code buf}, read on leg {@code from}, are relayed.
   */
  void relayed(Channel from, ByteBuf buf, int start, int end) {
    if (from == client) {
      accounting.fromClient(buf::getByte, start, end);
    } else {
      accounting.fromBackend(buf::getByte, start, end);
    }
  }

  /** A leg's input ended: pass the half-close on, or close when both inputs ended. */
  void inputShutdown(Channel leg) {
    if (closed) {
      abort();
      return;
    }
    Channel peer;
    if (leg == client) {
      clientInputShut = true;
      peer = backendLeg;
    } else {
      backendInputShut = true;
      peer = client;
    }
    if (clientInputShut && backendInputShut) {
      close();
      return;
    }
    peer.writeAndFlush(Unpooled.EMPTY_BUFFER)
        .addListener(
            (ChannelFutureListener)
                f -> {
                  if (f.isSuccess() && peer instanceof DuplexChannel) {
                    ((DuplexChannel) peer).shutdownOutput();
                  } else {
                    close();
                  }
                });
  }

  /** {@code leg} may read again: its peer drained below the low water mark. */
  void resumeReading(Channel leg) {
    if (!closed && !(leg == client ? clientInputShut : backendInputShut)) {
      leg.config().setAutoRead(true);
    }
  }

  /** An I/O error on {@code leg}: both legs are closed at once. */
  void failed(Channel leg, Throwable cause) {
    LOG.log(Level.DEBUG, "closing tunnel after an error on {0}: {1}", leg, cause);
    abort();
  }

  /** Closes both legs after flushing what they hold; see {@link Tunnel#close()}. */
  void close() {
    if (closed) {
      return;
    }
    closed = true;
    closeWait.cancel();
    flushAndClose(client);
    flushAndClose(backendLeg);
  }

  /**
   * Sends a close frame at the next backend frame boundary; see {@link Tunnel#close(int, String)}.
   */
  void close(int webSocketCode, String reason) {
    if (closed) {
      return;
    }
    // The relay sends the frame at the end of the backend's current frame; one stuck mid-frame is
    // cut at the shared deadline.
    if (!closeWait.begin(webSocketCode, reason, this::schedule, this::close)) {
      return;
    }
    accounting.proxyClosed(webSocketCode);
    if (backendFrames.atBoundary()) {
      sendCloseFrame();
    }
  }

  private Runnable schedule(Runnable task, long delayMillis) {
    ScheduledFuture<?> f = client.eventLoop().schedule(task, delayMillis, TimeUnit.MILLISECONDS);
    return () -> f.cancel(false);
  }

  /** Whether a close frame waits for the end of the backend's current frame. */
  boolean closeFramePending() {
    return closeWait.begun() && !closed;
  }

  /** At a frame boundary of the backend's stream: close frame to the client, backend leg closed. */
  void sendCloseFrame() {
    byte[] frame = closeWait.frame();
    if (frame == null || closed) {
      return;
    }
    closed = true;
    closeWait.cancel();
    closeAfter(client, client.writeAndFlush(Unpooled.wrappedBuffer(frame)));
    backendLeg.close();
  }

  /** Closes both legs at once, dropping anything not yet written. */
  void abort() {
    closed = true;
    closeWait.cancel();
    client.close();
    backendLeg.close();
  }

  /** Whether both legs are open and relaying. */
  boolean isOpen() {
    return backendLeg.isActive() && client.isActive() && backendLeg.pipeline().get(RELAY) != null;
  }

  /** Closes {@code ch} after flushing what it holds, lingering at most the close linger. */
  static void flushAndClose(@Nullable Channel ch) {
    if (ch == null) {
      return;
    }
    if (ch.isActive()) {
      closeAfter(ch, ch.writeAndFlush(Unpooled.EMPTY_BUFFER));
    } else {
      ch.close();
    }
  }

  /**
   * Closes {@code ch} once {@code lastWrite} is done, or after {@link #CLOSE_LINGER_MILLIS} if the
   * peer does not take the queued bytes by then; closing releases them.
   */
  private static void closeAfter(Channel ch, ChannelFuture lastWrite) {
    lastWrite.addListener(ChannelFutureListener.CLOSE);
    if (!lastWrite.isDone()) {
      ScheduledFuture<?> force =
          ch.eventLoop().schedule(() -> ch.close(), CLOSE_LINGER_MILLIS, TimeUnit.MILLISECONDS);
      ch.closeFuture().addListener(f -> force.cancel(false));
    }
  }

  @Override
  public String toString() {
    return "LiveTunnel{" + client.remoteAddress() + " -> " + backend.id() + "}";
  }
}

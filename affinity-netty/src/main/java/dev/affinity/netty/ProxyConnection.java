package dev.affinity.netty;

import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.SetCookie;
import dev.affinity.backend.Backend;
import dev.affinity.backend.ConnectionCloser;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.internal.WebSocketFrameTracker;
import dev.affinity.internal.http.AdapterSettings;
import dev.affinity.internal.http.CloseFrameWait;
import dev.affinity.internal.http.ErrorAnswer;
import dev.affinity.internal.http.TunnelAccounting;
import dev.affinity.internal.tls.PemTls;
import dev.affinity.strategy.LearnedAffinity;
import dev.affinity.strategy.LearnedStore;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpContentCompressor;
import io.netty.handler.codec.http.HttpContentDecompressor;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpObjectDecoder;
import io.netty.handler.codec.http.HttpObjectEncoder;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.lang.System.Logger.Level;
import java.net.ConnectException;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * One proxied client connection: connect (with failover), forward the head, await the response
 * head, then either relay a non-101 answer or rewire both pipelines into a byte tunnel. All state
 * is touched on the client channel's event loop only (the backend channel shares it); the public
 * close methods hop onto it.
 */
final class ProxyConnection implements Tunnel {
  private static final System.Logger LOG = System.getLogger(ProxyConnection.class.getName());
  private static final String CODEC = "affinity-backend-codec";
  private static final String HANDSHAKE = "affinity-backend-handshake";
  private static final String RELAY = "affinity-relay";
  private static final String IDLE = "affinity-idle";

  /**
   * How long a closing leg may take to flush what is queued for it before it is closed anyway. A
   * peer that stopped reading would otherwise keep the channel, and the bytes queued for it, until
   * the idle timeout.
   */
  static final long CLOSE_LINGER_MILLIS = 5_000;

  private enum State {
    CONNECTING,
    HANDSHAKING,
    RELAYING_RESPONSE,
    TUNNEL,
    CLOSED
  }

  private final ChannelHandlerContext clientCtx;
  private final Channel client;
  private final Router router;
  private final AffinityProxyConfig config;
  private final RoutingDecision decision;
  private final HttpRequest head;
  private final Set<Tunnel> openTunnels;
  private final TunnelAccounting accounting;
  private int failovers;
  private State state = State.CONNECTING;
  private volatile Backend backend;
  private volatile @Nullable Channel backendChannel;
  private @Nullable ScheduledFuture<?> handshakeTimer;
  private boolean clientInputShut;
  private boolean backendInputShut;
  private @Nullable WebSocketFrameTracker backendFrames;
  private final CloseFrameWait closeWait = new CloseFrameWait();
  private @Nullable CompositeByteBuf early;
  private @Nullable HttpResponse errorHead;
  private @Nullable CompositeByteBuf errorBody;

  /** The most bytes a client may pipeline behind its upgrade request: 64 KiB. */
  static final int MAX_EARLY_BYTES = 64 * 1024;

  ProxyConnection(
      ChannelHandlerContext clientCtx,
      Router router,
      AffinityProxyConfig config,
      RoutingDecision decision,
      HttpRequest head,
      Set<Tunnel> openTunnels,
      TunnelAccounting accounting) {
    this.openTunnels = openTunnels;
    this.accounting = accounting;
    this.clientCtx = clientCtx;
    this.client = clientCtx.channel();
    this.router = router;
    this.config = config;
    this.decision = decision;
    this.head = head;
    this.backend = decision.backend();
    client.closeFuture().addListener(closed -> releaseEarly());
  }

  /**
   * Bytes the client sent behind its upgrade request, before any answer: relayed to the backend
   * after its 101, dropped otherwise. More than {@link #MAX_EARLY_BYTES} aborts the connection.
   */
  void clientEarlyBytes(ByteBuf bytes) {
    if (state == State.CLOSED || !client.isActive()) {
      bytes.release();
      return;
    }
    CompositeByteBuf e = early;
    if (e == null) {
      e = client.alloc().compositeBuffer();
      early = e;
    }
    e.addComponent(true, bytes);
    if (e.readableBytes() > MAX_EARLY_BYTES) {
      LOG.log(Level.DEBUG, "client pipelined more than {0} bytes; closing", MAX_EARLY_BYTES);
      abort();
    }
  }

  private void releaseEarly() {
    CompositeByteBuf e = early;
    if (e != null) {
      early = null;
      e.release();
    }
    CompositeByteBuf body = errorBody;
    if (body != null) {
      errorBody = null;
      errorHead = null;
      body.release();
    }
  }

  void start() {
    connect(decision.backend());
  }

  private void connect(Backend target) {
    backend = target;
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
                        .addLast(HANDSHAKE, new BackendHandshake());
                  }
                });
    ChannelFuture f = b.connect(target.socketAddress());
    f.addListener((ChannelFutureListener) done -> connected(target, done));
  }

  private void connected(Backend target, ChannelFuture f) {
    if (state == State.CLOSED) {
      f.channel().close();
      return;
    }
    if (!f.isSuccess()) {
      connectFailed(target, f.cause());
      return;
    }
    Channel ch = f.channel();
    if (ch.localAddress() != null && ch.localAddress().equals(ch.remoteAddress())) {
      // TCP simultaneous open: nothing listens on the backend's port and the kernel picked that
      // very port as our source, so we are connected to ourselves. Possible on loopback.
      ch.close();
      connectFailed(target, new ConnectException("self-connect: nothing listens on " + target));
      return;
    }
    backendChannel = ch;
    // Lifecycle closes (drain deadline, re-homing, max lifetime) come from another thread.
    ConnectionCloser closer = reason -> close(reason.webSocketCode(), reason.phrase());
    ConnectionLease lease = decision.openLease(target, closer);
    ch.closeFuture().addListener(closed -> backendClosed(lease));
    state = State.HANDSHAKING;
    ch.write(head);
    ch.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    handshakeTimer =
        client
            .eventLoop()
            .schedule(
                this::handshakeTimedOut, millis(config.handshakeTimeout()), TimeUnit.MILLISECONDS);
  }

  private void connectFailed(Backend target, Throwable cause) {
    router.reportConnectFailure(target, cause);
    LOG.log(Level.DEBUG, "connect to {0} failed: {1}", target.id(), cause);
    List<Backend> next = decision.failoverCandidates();
    if (failovers < next.size()) {
      connect(next.get(failovers++));
    } else {
      failClient(HttpResponseStatus.BAD_GATEWAY, ErrorAnswer.NO_BACKEND_REACHABLE);
    }
  }

  private void handshakeTimedOut() {
    handshakeTimer = null;
    if (state == State.RELAYING_RESPONSE) {
      // A backend that answered with an error but stalls on its body: relay what we have.
      finishRelay();
      return;
    }
    if (state == State.HANDSHAKING) {
      router.reportConnectFailure(
          backend, new TimeoutException("no response head within " + config.handshakeTimeout()));
      failClient(HttpResponseStatus.GATEWAY_TIMEOUT, ErrorAnswer.BACKEND_TIMEOUT);
    }
  }

  private void response(HttpResponse res) {
    cancelTimer();
    if (res.decoderResult().isFailure()) {
      router.reportConnectFailure(backend, res.decoderResult().cause());
      failClient(HttpResponseStatus.BAD_GATEWAY, ErrorAnswer.BAD_RESPONSE);
      return;
    }
    if (res.status().code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
      openTunnel(res);
      return;
    }
    // Any other answer is relayed with at most maxErrorBodyBytes of its body, read within the
    // handshake timeout (which keeps running), as on the Jetty adapter.
    state = State.RELAYING_RESPONSE;
    errorHead = res;
    errorBody = client.alloc().compositeBuffer();
    handshakeTimer =
        client
            .eventLoop()
            .schedule(
                this::handshakeTimedOut, millis(config.handshakeTimeout()), TimeUnit.MILLISECONDS);
  }

  private void relayResponseContent(HttpContent content) {
    CompositeByteBuf body = errorBody;
    try {
      if (body == null) {
        return;
      }
      int room = config.maxErrorBodyBytes() - body.readableBytes();
      ByteBuf bytes = content.content();
      int n = Math.min(room, bytes.readableBytes());
      if (n > 0) {
        body.addComponent(true, bytes.readRetainedSlice(n));
      }
      if (content instanceof LastHttpContent
          || body.readableBytes() >= config.maxErrorBodyBytes()) {
        finishRelay();
      }
    } finally {
      content.release();
    }
  }

  /**
   * Sends the backend's non-101 answer: its status and end-to-end fields, the body read so far
   * (capped), {@code Content-Length} for it and {@code Connection: close}; then closes both legs.
   */
  private void finishRelay() {
    HttpResponse res = errorHead;
    CompositeByteBuf body = errorBody;
    errorHead = null;
    errorBody = null;
    state = State.CLOSED;
    cancelTimer();
    Channel be = backendChannel;
    if (be != null) {
      be.close();
    }
    if (res == null || body == null) {
      return;
    }
    if (!client.isActive()) {
      body.release();
      return;
    }
    FullHttpResponse full = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, res.status(), body);
    HttpHeaders h = full.headers();
    for (Map.Entry<String, String> e : res.headers()) {
      if (!FRAMING.contains(e.getKey().toLowerCase(Locale.ROOT))) {
        h.add(e.getKey(), e.getValue());
      }
    }
    h.set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    clientCtx.writeAndFlush(full).addListener(ChannelFutureListener.CLOSE);
    answered(res.status().code());
  }

  /** Hop-by-hop and framing fields of a relayed error answer: this hop writes its own. */
  private static final Set<String> FRAMING =
      Set.of(
          "content-length",
          "transfer-encoding",
          "connection",
          "keep-alive",
          "upgrade",
          "te",
          "trailer");

  private void openTunnel(HttpResponse res) {
    Channel be = backendChannel;
    if (be == null) {
      return;
    }
    state = State.TUNNEL;
    // Learned from the backend's own fields, before our cookie joins them; held while open.
    LearnedStore.Hold learnedHold = learn(res);
    SetCookie cookie = decision.cookieFor(backend); // names where we are, after a failover too
    if (cookie != null) {
      res.headers().add(HttpHeaderNames.SET_COOKIE, cookie.toHeaderValue());
    }
    clientCtx.write(res);
    clientCtx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    answered(HttpResponseStatus.SWITCHING_PROTOCOLS.code());
    accounting.opened();

    // Client leg: the relay replaces us first, so bytes the HTTP decoder still holds reach it.
    ChannelPipeline cp = client.pipeline();
    cp.replace(clientCtx.handler(), RELAY, new RelayHandler(this, be, null));
    removeHttpHandlers(cp);
    client
        .config()
        .setWriteBufferWaterMark(
            new WriteBufferWaterMark(config.lowWaterMark(), config.highWaterMark()));
    client.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);

    // Backend leg: bytes that came in the same read as the 101 are forwarded by the codec's
    // removal (or already came to us raw), and are written after the 101.
    ChannelPipeline bp = be.pipeline();
    backendFrames = new WebSocketFrameTracker();
    bp.replace(HANDSHAKE, RELAY, new RelayHandler(this, client, backendFrames));
    bp.remove(CODEC);
    long idle = config.idleTimeout().toMillis();
    if (idle > 0) {
      cp.addBefore(RELAY, IDLE, new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS));
      bp.addBefore(RELAY, IDLE, new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS));
    }
    client.flush();
    CompositeByteBuf e = early;
    if (e != null) {
      early = null;
      relayed(client, e, e.readerIndex(), e.writerIndex());
      be.writeAndFlush(e);
    }
    client.config().setAutoRead(true);
    openTunnels.add(this);
    client
        .closeFuture()
        .addListener(
            closed -> {
              openTunnels.remove(this);
              learnedHold.close();
              tunnelEnded();
            });
  }

  /** What the backend's 101 teaches the learned affinity, if configured; never throws. */
  private LearnedStore.Hold learn(HttpResponse res) {
    LearnedAffinity learned = config.learnedAffinity();
    if (learned == null) {
      return NOTHING_HELD;
    }
    HttpHeaders fields = res.headers();
    return learned.learn(decision.request(), backend, fields::getAll);
  }

  private static final LearnedStore.Hold NOTHING_HELD = () -> {};

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

  private void answered(int status) {
    Duration took = accounting.answered();
    if (took != null) {
      TunnelAccounting.notify(
          () -> config.tunnelListener().handshakeAnswered(decision, status, took));
    }
  }

  private void tunnelEnded() {
    if (accounting.ended()) {
      Backend b = backend;
      TunnelAccounting.notify(
          () ->
              config
                  .tunnelListener()
                  .tunnelClosed(
                      decision,
                      b,
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

  private void failClient(HttpResponseStatus status, String reason) {
    answered(status.code());
    state = State.CLOSED;
    cancelTimer();
    Channel be = backendChannel;
    if (be != null) {
      be.close();
    }
    if (client.isActive()) {
      LOG.log(Level.DEBUG, "answering {0} to {1}: {2}", status.code(), client, reason);
      HttpErrors.send(clientCtx, status, reason);
    }
  }

  private void backendClosed(ConnectionLease lease) {
    lease.close();
    switch (state) {
      case HANDSHAKING:
        // Nothing reached the client yet and the upgrade is a GET: like a refused connect, this
        // backend is reported and the next candidate gets the request.
        cancelTimer();
        backendChannel = null;
        state = State.CONNECTING;
        connectFailed(backend, new ClosedChannelException());
        return;
      case RELAYING_RESPONSE: // a body delimited by the close, or cut short: relay what we have
        finishRelay();
        return;
      case TUNNEL:
        close();
        return;
      default:
    }
  }

  /** The client channel went inactive before the tunnel was set up. */
  void clientInactive() {
    if (state != State.TUNNEL && state != State.CLOSED) {
      abort();
    }
  }

  /** A leg's input ended: pass the half-close on, or close when both inputs ended. */
  void inputShutdown(Channel leg) {
    Channel be = backendChannel;
    if (be == null || state != State.TUNNEL) {
      abort();
      return;
    }
    Channel peer;
    if (leg == client) {
      clientInputShut = true;
      peer = be;
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
    if (state == State.TUNNEL && !(leg == client ? clientInputShut : backendInputShut)) {
      leg.config().setAutoRead(true);
    }
  }

  void failed(Channel leg, Throwable cause) {
    LOG.log(Level.DEBUG, "closing tunnel after an error on {0}: {1}", leg, cause);
    abort();
  }

  private void cancelTimer() {
    ScheduledFuture<?> t = handshakeTimer;
    if (t != null) {
      t.cancel(false);
      handshakeTimer = null;
    }
    closeWait.cancel();
  }

  @Override
  public void close() {
    if (!client.eventLoop().inEventLoop()) {
      client.eventLoop().execute(this::close);
      return;
    }
    if (state == State.CLOSED) {
      return;
    }
    state = State.CLOSED;
    cancelTimer();
    flushAndClose(client);
    flushAndClose(backendChannel);
  }

  @Override
  public void close(int webSocketCode, String reason) {
    AdapterSettings.closeArguments(webSocketCode, reason);
    if (!client.eventLoop().inEventLoop()) {
      client.eventLoop().execute(() -> close(webSocketCode, reason));
      return;
    }
    WebSocketFrameTracker frames = backendFrames;
    if (state != State.TUNNEL || frames == null) {
      close();
      return;
    }
    // The relay sends the frame at the end of the backend's current frame; one stuck mid-frame is
    // cut at the shared deadline.
    if (!closeWait.begin(webSocketCode, reason, this::schedule, this::close)) {
      return;
    }
    accounting.proxyClosed(webSocketCode);
    if (frames.atBoundary()) {
      sendCloseFrame();
    }
  }

  private Runnable schedule(Runnable task, long delayMillis) {
    ScheduledFuture<?> f = client.eventLoop().schedule(task, delayMillis, TimeUnit.MILLISECONDS);
    return () -> f.cancel(false);
  }

  /** Whether a close frame waits for the end of the backend's current frame. */
  boolean closeFramePending() {
    return closeWait.begun() && state == State.TUNNEL;
  }

  /** At a frame boundary of the backend's stream: close frame to the client, backend leg closed. */
  void sendCloseFrame() {
    byte[] frame = closeWait.frame();
    if (frame == null || state != State.TUNNEL) {
      return;
    }
    state = State.CLOSED;
    cancelTimer();
    closeAfter(client, client.writeAndFlush(Unpooled.wrappedBuffer(frame)));
    Channel be = backendChannel;
    if (be != null) {
      be.close();
    }
  }

  private static void flushAndClose(@Nullable Channel ch) {
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
  public void abort() {
    if (!client.eventLoop().inEventLoop()) {
      client.eventLoop().execute(this::abort);
      return;
    }
    state = State.CLOSED;
    cancelTimer();
    client.close();
    Channel be = backendChannel;
    if (be != null) {
      be.close();
    }
  }

  @Override
  public RoutingDecision decision() {
    return decision;
  }

  @Override
  public Backend backend() {
    return backend;
  }

  @Override
  public Channel clientChannel() {
    return client;
  }

  @Override
  public @Nullable Channel backendChannel() {
    return backendChannel;
  }

  @Override
  public SocketAddress clientAddress() {
    return client.remoteAddress();
  }

  @Override
  public boolean isOpen() {
    Channel be = backendChannel;
    return be != null && be.isActive() && client.isActive() && be.pipeline().get(RELAY) != null;
  }

  @Override
  public String toString() {
    return "Tunnel{" + client.remoteAddress() + " -> " + backend.id() + "}";
  }

  private static int millis(java.time.Duration d) {
    return (int) Math.min(Integer.MAX_VALUE, d.toMillis());
  }

  /** The backend leg until the 101: reads the response head and what follows it. */
  private final class BackendHandshake extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      switch (state) {
        case HANDSHAKING:
          if (msg instanceof HttpResponse) {
            response((HttpResponse) msg);
          } else {
            ReferenceCountUtil.release(msg);
          }
          return;
        case RELAYING_RESPONSE:
          if (msg instanceof HttpContent) {
            relayResponseContent((HttpContent) msg);
          } else {
            ReferenceCountUtil.release(msg);
          }
          return;
        default:
          ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (state == State.RELAYING_RESPONSE) {
        clientCtx.flush();
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        ctx.close(); // the leg allows half-closure, but before the tunnel an EOF ends it
      }
      ReferenceCountUtil.release(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.log(Level.DEBUG, "backend {0} failed during the handshake: {1}", backend.id(), cause);
      ctx.close(); // backendClosed() answers the client
    }
  }
}

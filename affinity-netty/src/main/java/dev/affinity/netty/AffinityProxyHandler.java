package dev.affinity.netty;

import static java.util.Objects.requireNonNull;

import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.SetCookie;
import dev.affinity.internal.http.ErrorAnswer;
import dev.affinity.internal.http.ForwardedHeaders;
import dev.affinity.internal.http.HandshakeRules;
import dev.affinity.internal.http.RequestTarget;
import dev.affinity.internal.http.TunnelAccounting;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Turns a Netty HTTP server pipeline into a sticky WebSocket load balancer: handshake first, then
 * tunnel, the way NGINX and HAProxy do it.
 *
 * <pre>{@code
 * ch.pipeline()
 *     .addLast(new HttpServerCodec())
 *     .addLast(new AffinityProxyHandler(router, AffinityProxyConfig.defaults()));
 * }</pre>
 *
 * <p>For each WebSocket upgrade request it:
 *
 * <ol>
 *   <li>validates the request by the rules both adapters share (GET, HTTP/1.1, {@code Upgrade:
 *       websocket}, {@code Connection: upgrade}, one {@code Host}, the request target, a 16-byte
 *       {@code Sec-WebSocket-Key}, version 13, no body, no control characters, at most {@link
 *       AffinityProxyConfig#maxHeaderCount()} fields) and stops reading from the client;
 *   <li>asks {@link Router#select}, stores the decision in {@link #DECISION} and fires a {@link
 *       RoutingDecisionEvent}; REJECTED → 401, NO_BACKEND → 503;
 *   <li>connects to the backend on the client's event loop, trying the decision's failover
 *       candidates and reporting each failure with {@link Router#reportConnectFailure}; all failed
 *       → 502;
 *   <li>forwards the request head unchanged except for the forwarded headers ({@code
 *       X-Forwarded-For}, {@code -Proto}, {@code -Host}, {@code -Port}, {@code Forwarded}), which
 *       are kept and appended to only from a {@linkplain AffinityProxyConfig#trustedProxies()
 *       trusted proxy} and replaced otherwise; no response head within the handshake timeout → 504;
 *   <li>relays the backend's 101 adding the decision's {@code Set-Cookie}, or relays any other
 *       answer and closes;
 *   <li>after the 101 removes the HTTP codecs from both pipelines and relays bytes with
 *       back-pressure, idle timeouts and half-close, until either side closes.
 * </ol>
 *
 * <p>Malformed requests get 400, oversized heads 431 (headers) or 414 (request line), a wrong
 * WebSocket version 426; every error answer carries {@code Connection: close} and the connection is
 * closed. Requests that are not upgrades follow {@link AffinityProxyConfig#nonWebSocket()}. Place
 * it after {@code HttpServerCodec} (an {@code HttpObjectAggregator} in between is fine), and after
 * {@code HAProxyMessageDecoder} for the PROXY protocol. One instance per channel: the handler is
 * stateful and not {@code @Sharable}.
 */
public final class AffinityProxyHandler extends ChannelInboundHandlerAdapter {
  /** The routing decision of the client channel's WebSocket handshake. */
  public static final AttributeKey<RoutingDecision> DECISION =
      AttributeKey.valueOf(AffinityProxyHandler.class, "decision");

  /** The {@link Tunnel} of the client channel, from backend selection until closed. */
  public static final AttributeKey<Tunnel> TUNNEL =
      AttributeKey.valueOf(AffinityProxyHandler.class, "tunnel");

  private static final System.Logger LOG = System.getLogger(AffinityProxyHandler.class.getName());

  private enum State {
    /** Waiting for a request head. */
    IDLE,
    /** Passing a non-WebSocket request's content to the next handler. */
    PASSING,
    /** An upgrade is being routed or proxied; the request's (empty) content is dropped. */
    ROUTED,
    /** An error answer is on its way; everything is dropped. */
    DONE
  }

  private final Router router;
  private final AffinityProxyConfig config;
  private final Set<Tunnel> openTunnels;
  private final BooleanSupplier stopping;
  private State state = State.IDLE;
  private @Nullable InetSocketAddress proxySource;
  private @Nullable ProxyConnection connection;
  private @Nullable ScheduledFuture<?> headTimer;
  private boolean headArrived;

  /** A handler routing with {@code router}, configured by {@code config}. */
  public AffinityProxyHandler(Router router, AffinityProxyConfig config) {
    this(router, config, ConcurrentHashMap.newKeySet(), () -> false);
  }

  /**
   * A handler that adds its open tunnel to {@code openTunnels} (a server's registry) and answers
   * 503 while {@code stopping}.
   */
  AffinityProxyHandler(
      Router router,
      AffinityProxyConfig config,
      Set<Tunnel> openTunnels,
      BooleanSupplier stopping) {
    this.router = requireNonNull(router, "router");
    this.config = requireNonNull(config, "config");
    this.openTunnels = openTunnels;
    this.stopping = stopping;
  }

  /** A handler routing with {@code router} under {@link AffinityProxyConfig#defaults()}. */
  public AffinityProxyHandler(Router router) {
    this(router, AffinityProxyConfig.defaults());
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (ctx.channel().isActive()) {
      startHeadTimer(ctx);
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    startHeadTimer(ctx);
    ctx.fireChannelActive();
  }

  /** Starts the request-head timeout once per connection: 408 unless a head arrives in time. */
  private void startHeadTimer(ChannelHandlerContext ctx) {
    if (headTimer != null || headArrived) {
      return;
    }
    headTimer =
        ctx.executor()
            .schedule(
                () -> {
                  headTimer = null;
                  if (!headArrived && state == State.IDLE && ctx.channel().isActive()) {
                    state = State.DONE;
                    ctx.channel().config().setAutoRead(false);
                    LOG.log(Level.DEBUG, "no request head from {0} in time", ctx.channel());
                    HttpErrors.send(
                        ctx, HttpResponseStatus.REQUEST_TIMEOUT, ErrorAnswer.REQUEST_HEAD_TIMEOUT);
                  }
                },
                config.requestHeadTimeout().toNanos(),
                TimeUnit.NANOSECONDS);
  }

  private void headArrived() {
    headArrived = true;
    ScheduledFuture<?> t = headTimer;
    if (t != null) {
      t.cancel(false);
      headTimer = null;
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HAProxyMessage) {
      HAProxyMessage proxy = (HAProxyMessage) msg;
      try {
        if (proxy.sourceAddress() != null) {
          proxySource = new InetSocketAddress(proxy.sourceAddress(), proxy.sourcePort());
        }
      } catch (IllegalArgumentException e) {
        LOG.log(Level.DEBUG, "unusable PROXY source address on {0}", ctx.channel());
      } finally {
        proxy.release();
      }
      return;
    }
    switch (state) {
      case PASSING:
        if (msg instanceof LastHttpContent) {
          state = State.IDLE;
        }
        ctx.fireChannelRead(msg);
        return;
      case ROUTED:
        routedRead(msg);
        return;
      case DONE:
        ReferenceCountUtil.release(msg);
        return;
      case IDLE:
      default:
        if (msg instanceof HttpRequest) {
          headArrived();
          request(ctx, (HttpRequest) msg);
        } else {
          ctx.fireChannelRead(msg); // not ours (no HTTP codec in front?)
        }
    }
  }

  private void routedRead(Object msg) {
    if (msg instanceof ByteBuf && connection != null) {
      // Bytes pipelined behind the upgrade request (the HTTP decoder was removed): kept for the
      // tunnel, as Jetty, HAProxy and NGINX do.
      connection.clientEarlyBytes((ByteBuf) msg);
      return;
    }
    boolean empty = msg instanceof HttpContent && !((HttpContent) msg).content().isReadable();
    ReferenceCountUtil.release(msg);
    if (!empty && connection != null) {
      // RFC 6455 section 4.1: a client waits for the 101 before it sends anything.
      LOG.log(Level.DEBUG, "client sent data before the handshake completed; closing");
      connection.abort();
    }
  }

  private void request(ChannelHandlerContext ctx, HttpRequest req) {
    HandshakeCheck check = HandshakeCheck.of(req, config);
    if (check.kind == HandshakeCheck.Kind.NOT_WEBSOCKET) {
      switch (config.nonWebSocket()) {
        case PASS:
          state = req instanceof LastHttpContent ? State.IDLE : State.PASSING;
          ctx.fireChannelRead(req);
          return;
        case NOT_FOUND:
          fail(ctx, req, HttpResponseStatus.NOT_FOUND, "not found");
          return;
        case UPGRADE_REQUIRED:
        default:
          fail(ctx, req, HttpResponseStatus.UPGRADE_REQUIRED, HandshakeRules.UPGRADE_REQUIRED);
          return;
      }
    }
    if (check.kind == HandshakeCheck.Kind.BAD) {
      fail(ctx, req, requireNonNull(check.status), check.reason);
      return;
    }
    if (stopping.getAsBoolean()) {
      fail(ctx, req, HttpResponseStatus.SERVICE_UNAVAILABLE, ErrorAnswer.PROXY_STOPPING);
      return;
    }
    ctx.channel().config().setAutoRead(false); // one request per connection
    state = State.ROUTED;
    String originForm = RequestTarget.originForm(req.uri());
    if (originForm != null && !originForm.equals(req.uri())) {
      req.setUri(originForm); // absolute-form: routed and forwarded as origin-form, as on Jetty
    }
    boolean secure = ctx.pipeline().get(SslHandler.class) != null;
    RoutingDecision decision =
        router.select(
            new NettyRoutingRequest(req, ctx.channel().remoteAddress(), proxySource, secure));
    TunnelAccounting accounting = new TunnelAccounting();
    ctx.channel().attr(DECISION).set(decision);
    ctx.fireUserEventTriggered(new RoutingDecisionEvent(decision));
    if (!ctx.channel().isActive()) {
      ReferenceCountUtil.release(req);
      return;
    }
    if (!decision.hasBackend()) {
      // Decide-only too: a refused or unplaceable client is answered here, as on Jetty.
      HttpResponseStatus status = HttpResponseStatus.valueOf(decision.httpStatus());
      fail(ctx, req, status, ErrorAnswer.forDecision(decision));
      if (!config.decideOnly()) {
        Duration took = accounting.answered();
        if (took != null) {
          TunnelAccounting.notify(
              () -> config.tunnelListener().handshakeAnswered(decision, status.code(), took));
        }
      }
      return;
    }
    if (config.decideOnly()) {
      state = State.IDLE;
      ctx.channel().config().setAutoRead(true);
      SetCookie cookie = decision.cookie();
      if (cookie != null) {
        // The next handler's 101 gets the affinity cookie, as Jetty's decide-only mode adds it.
        ctx.pipeline().addBefore(ctx.name(), null, new CookieOn101(cookie));
      }
      ctx.pipeline().remove(this);
      ctx.fireChannelRead(req);
      return;
    }
    HttpRequest head = req;
    if (req instanceof FullHttpRequest) {
      head = new DefaultHttpRequest(req.protocolVersion(), req.method(), req.uri(), req.headers());
      ReferenceCountUtil.release(req);
    }
    if (config.forwardedHeaders()) {
      writeForwardedHeaders(ctx, head, secure);
    }
    ProxyConnection c =
        new ProxyConnection(ctx, router, config, decision, head, openTunnels, accounting);
    connection = c;
    ctx.channel().attr(TUNNEL).set(c);
    stopDecoding(ctx.pipeline());
    c.start();
  }

  /**
   * Removes the HTTP request decoder now, while it is still handing us the upgrade request: bytes
   * after the request head (a frame the client pipelined) would otherwise be parsed as the next
   * request and lost. The decoder hands what it holds to us as raw bytes; the encoder stays for the
   * answer.
   */
  private static void stopDecoding(ChannelPipeline p) {
    for (Map.Entry<String, ChannelHandler> e : p) {
      ChannelHandler h = e.getValue();
      if (h instanceof HttpServerCodec) {
        ((HttpServerCodec) h).removeInboundHandler();
        return;
      }
      if (h instanceof HttpRequestDecoder) {
        p.remove(h);
        return;
      }
    }
  }

  /** The shared rules: the client's forwarded headers are replaced unless the peer is trusted. */
  private void writeForwardedHeaders(ChannelHandlerContext ctx, HttpRequest head, boolean secure) {
    HttpHeaders h = head.headers();
    SocketAddress remote = ctx.channel().remoteAddress();
    SocketAddress local = ctx.channel().localAddress();
    List<Map.Entry<String, String>> written =
        config
            .forwarding()
            .write(
                h::getAll,
                remote instanceof InetSocketAddress ? (InetSocketAddress) remote : null,
                proxySource,
                secure,
                local instanceof InetSocketAddress ? ((InetSocketAddress) local).getPort() : 0);
    List<String> owned = new ArrayList<>();
    for (Map.Entry<String, String> e : h) {
      if (ForwardedHeaders.owns(e.getKey())) {
        owned.add(e.getKey());
      }
    }
    for (String name : owned) {
      h.remove(name);
    }
    for (Map.Entry<String, String> e : written) {
      h.add(e.getKey(), e.getValue());
    }
  }

  private void fail(
      ChannelHandlerContext ctx, HttpRequest req, HttpResponseStatus status, String reason) {
    ReferenceCountUtil.release(req);
    state = State.DONE;
    ctx.channel().config().setAutoRead(false);
    LOG.log(Level.DEBUG, "answering {0} to {1}: {2}", status.code(), ctx.channel(), reason);
    HttpErrors.send(ctx, status, reason);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (state == State.PASSING || (state == State.IDLE && ctx.pipeline().last() != this)) {
      ctx.fireExceptionCaught(cause); // the next handler owns the exchange
      return;
    }
    LOG.log(Level.DEBUG, "closing {0} after {1}", ctx.channel(), cause);
    ProxyConnection c = connection;
    if (c != null) {
      c.abort();
    } else {
      ctx.close();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    headArrived();
    ProxyConnection c = connection;
    if (c != null) {
      c.clientInactive();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public String toString() {
    return "AffinityProxyHandler{" + state + ", " + config + "}";
  }
}

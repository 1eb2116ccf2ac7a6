package dev.affinity.netty;

import dev.affinity.SetCookie;
import dev.affinity.backend.Backend;
import dev.affinity.internal.http.ErrorAnswer;
import dev.affinity.strategy.LearnedAffinity;
import dev.affinity.strategy.LearnedStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.lang.System.Logger.Level;
import java.nio.channels.ClosedChannelException;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * The backend leg of one connect attempt until the backend has answered: writes the client's
 * upgrade request head, awaits the response head within the handshake timeout, then
 *
 * <ul>
 *   <li>a 101: learns from its fields (learned affinity, before our cookie joins them), adds the
 *       affinity {@code Set-Cookie} for the backend actually reached, and hands the leg to {@link
 *       ProxyConnection#upgraded}, which opens the {@link LiveTunnel};
 *   <li>any other answer: relays its status and end-to-end fields with at most {@code
 *       maxErrorBodyBytes} of its body, read within the handshake timeout (which keeps running),
 *       then closes both legs;
 *   <li>no answer in time: 504, the backend reported, no failover (the request may have been acted
 *       on); a head that is not HTTP: 502, reported, no failover;
 *   <li>the backend closes before its head: the attempt failed like a refused connect, and the next
 *       candidate gets the request ({@link BackendConnector#failed}).
 * </ul>
 *
 * <p>One per attempt, on the client's event loop (the legs share it).
 */
final class BackendHandshake extends ChannelInboundHandlerAdapter {
  private static final System.Logger LOG = System.getLogger(BackendHandshake.class.getName());

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

  private enum State {
    AWAITING_HEAD,
    RELAYING_RESPONSE,
    DONE
  }

  private final ProxyConnection connection;
  private final Backend target;
  private final AffinityProxyConfig config;
  private State state = State.AWAITING_HEAD;
  private @Nullable Channel leg;
  private @Nullable ScheduledFuture<?> timer;
  private @Nullable HttpResponse errorHead;
  private @Nullable CompositeByteBuf errorBody;

  /** The handshake of {@code connection} with {@code target}, under {@code config}. */
  BackendHandshake(ProxyConnection connection, Backend target, AffinityProxyConfig config) {
    this.connection = connection;
    this.target = target;
    this.config = config;
  }

  /** The leg to {@code target} is connected: the request head goes out and the timer starts. */
  void start(Channel backendLeg) {
    leg = backendLeg;
    backendLeg.write(connection.head());
    backendLeg.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    startTimer(backendLeg);
  }

  private void startTimer(Channel backendLeg) {
    timer =
        backendLeg
            .eventLoop()
            .schedule(this::timedOut, config.handshakeTimeout().toNanos(), TimeUnit.NANOSECONDS);
  }

  private void timedOut() {
    timer = null;
    if (state == State.RELAYING_RESPONSE) {
      // A backend that answered with an error but stalls on its body: relay what we have.
      finishRelay();
      return;
    }
    if (state == State.AWAITING_HEAD) {
      connection.reportFailure(
          target, new TimeoutException("no response head within " + config.handshakeTimeout()));
      connection.failClient(HttpResponseStatus.GATEWAY_TIMEOUT, ErrorAnswer.BACKEND_TIMEOUT);
    }
  }

  private void response(Channel backendLeg, HttpResponse res) {
    cancelTimer();
    if (res.decoderResult().isFailure()) {
      connection.reportFailure(target, res.decoderResult().cause());
      connection.failClient(HttpResponseStatus.BAD_GATEWAY, ErrorAnswer.BAD_RESPONSE);
      return;
    }
    if (res.status().code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
      state = State.DONE;
      // Learned from the backend's own fields, before our cookie joins them; held while open.
      LearnedStore.Hold learnedHold = learn(res);
      SetCookie cookie = connection.decision().cookieFor(target); // after a failover too
      if (cookie != null) {
        res.headers().add(HttpHeaderNames.SET_COOKIE, cookie.toHeaderValue());
      }
      connection.upgraded(res, backendLeg, learnedHold);
      return;
    }
    state = State.RELAYING_RESPONSE;
    errorHead = res;
    errorBody = connection.clientChannel().alloc().compositeBuffer();
    startTimer(backendLeg);
  }

  /** What the backend's 101 teaches the learned affinity, if configured; never throws. */
  private LearnedStore.Hold learn(HttpResponse res) {
    LearnedAffinity learned = config.learnedAffinity();
    if (learned == null) {
      return NOTHING_HELD;
    }
    HttpHeaders fields = res.headers();
    return learned.learn(connection.decision().request(), target, fields::getAll);
  }

  private static final LearnedStore.Hold NOTHING_HELD = () -> {};

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
    state = State.DONE;
    cancelTimer();
    connection.handshakeEnded();
    Channel be = leg;
    if (be != null) {
      be.close();
    }
    if (res == null || body == null) {
      return;
    }
    Channel client = connection.clientChannel();
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
    connection.clientContext().writeAndFlush(full).addListener(ChannelFutureListener.CLOSE);
    connection.answered(res.status().code());
  }

  /**
   * The backend leg closed while this handshake was current: before the head it is a failed attempt
   * (nothing reached the client and the upgrade is a GET, so the next candidate gets the request);
   * during a relayed answer, a body delimited by the close, or cut short, is relayed.
   */
  void backendClosed() {
    if (state == State.AWAITING_HEAD) {
      cancelTimer();
      state = State.DONE;
      connection.failover(target, new ClosedChannelException());
    } else if (state == State.RELAYING_RESPONSE) {
      finishRelay();
    }
  }

  /** Stops this handshake: its timer is cancelled and a partly read answer is released. */
  void cancel() {
    state = State.DONE;
    cancelTimer();
    CompositeByteBuf body = errorBody;
    if (body != null) {
      errorBody = null;
      errorHead = null;
      body.release();
    }
  }

  private void cancelTimer() {
    ScheduledFuture<?> t = timer;
    if (t != null) {
      t.cancel(false);
      timer = null;
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    switch (state) {
      case AWAITING_HEAD:
        if (msg instanceof HttpResponse) {
          response(ctx.channel(), (HttpResponse) msg);
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
      connection.clientContext().flush();
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
    LOG.log(Level.DEBUG, "backend {0} failed during the handshake: {1}", target.id(), cause);
    ctx.close(); // backendClosed() answers the client
  }

  @Override
  public String toString() {
    return "BackendHandshake{" + target.id() + ", " + state + "}";
  }
}

package dev.affinity.netty;

import dev.affinity.RoutingDecision;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;

/**
 * A Netty WebSocket endpoint standing for "the user's own endpoint" in the decide-only scenarios:
 * once Netty's handshake completes, announces {@code backend:<decided id>} from the channel's
 * {@link AffinityProxyHandler#DECISION}, then echoes.
 */
final class AnnouncingEcho extends ChannelInboundHandlerAdapter {
  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
      RoutingDecision d = ctx.channel().attr(AffinityProxyHandler.DECISION).get();
      String id = d == null || !d.hasBackend() ? "none" : d.backend().id();
      ctx.writeAndFlush(new TextWebSocketFrame("backend:" + id));
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof WebSocketFrame) {
      ctx.writeAndFlush(msg); // ownership passes to the write
      return;
    }
    ctx.fireChannelRead(msg);
  }

  /** Runs a callback for each request that reaches the user's endpoint, then passes it on. */
  static final class Called extends ChannelInboundHandlerAdapter {
    private final Runnable called;

    Called(Runnable called) {
      this.called = called;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof FullHttpRequest) {
        called.run();
      }
      ctx.fireChannelRead(msg);
    }
  }
}

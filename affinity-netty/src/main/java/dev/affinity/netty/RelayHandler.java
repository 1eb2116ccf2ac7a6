package dev.affinity.netty;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * One leg of a tunnel: bytes read here are written to the peer leg. Reading stops while the peer is
 * not writable and resumes when it is again (back-pressure).
 */
final class RelayHandler extends ChannelInboundHandlerAdapter {
  private final ProxyConnection connection;
  private final Channel peer;

  RelayHandler(ProxyConnection connection, Channel peer) {
    this.connection = connection;
    this.peer = peer;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf)) {
      ReferenceCountUtil.release(msg); // the codec's empty LastHttpContent after the 101
      return;
    }
    if (!peer.isActive()) {
      ReferenceCountUtil.release(msg);
      return;
    }
    peer.write(msg, peer.voidPromise());
    if (!peer.isWritable()) {
      ctx.channel().config().setAutoRead(false);
      peer.flush();
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    peer.flush();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    // We became writable: the peer may read again (it stopped when we filled up).
    if (ctx.channel().isWritable()) {
      connection.resumeReading(peer);
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      connection.inputShutdown(ctx.channel());
    } else if (evt instanceof IdleStateEvent) {
      connection.abort();
    }
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    connection.close();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    connection.failed(ctx.channel(), cause);
  }
}

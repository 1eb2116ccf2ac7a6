package dev.affinity.netty;

import dev.affinity.internal.WebSocketFrameTracker;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

/**
 * One leg of a {@link LiveTunnel}: bytes read here are written to the peer leg. Reading stops while
 * the peer is not writable and resumes when it is again (back-pressure).
 */
final class RelayHandler extends ChannelInboundHandlerAdapter {
  private final LiveTunnel tunnel;
  private final Channel peer;
  private final @Nullable WebSocketFrameTracker frames;

  /**
   * A relay from this leg to {@code peer}; {@code frames} follows the frames of this direction
   * (backend to client only), so a close frame can be put between two of them.
   */
  RelayHandler(LiveTunnel tunnel, Channel peer, @Nullable WebSocketFrameTracker frames) {
    this.tunnel = tunnel;
    this.peer = peer;
    this.frames = frames;
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
    ByteBuf buf = (ByteBuf) msg;
    if (frames != null) {
      if (tunnel.closeFramePending()) {
        int boundary = frames.advance(buf::getByte, buf.readerIndex(), buf.writerIndex(), true);
        if (boundary >= 0) {
          int n = boundary - buf.readerIndex();
          tunnel.relayed(ctx.channel(), buf, buf.readerIndex(), boundary);
          if (n > 0) {
            peer.write(buf.retainedSlice(buf.readerIndex(), n), peer.voidPromise());
          }
          buf.release(); // what follows the boundary is not relayed: the tunnel is closing
          tunnel.sendCloseFrame();
          return;
        }
      } else {
        frames.advance(buf::getByte, buf.readerIndex(), buf.writerIndex(), false);
      }
    }
    tunnel.relayed(ctx.channel(), buf, buf.readerIndex(), buf.writerIndex());
    peer.write(buf, peer.voidPromise());
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
      tunnel.resumeReading(peer);
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      tunnel.inputShutdown(ctx.channel());
    } else if (evt instanceof IdleStateEvent) {
      tunnel.abort();
    }
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    tunnel.close();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    tunnel.failed(ctx.channel(), cause);
  }
}

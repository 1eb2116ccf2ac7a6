package dev.affinity.loadtest;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.net.InetSocketAddress;

/**
 * A WebSocket echo backend for benchmarks: announces {@code backend:<id>} as its first text frame,
 * then echoes every text and binary frame. Binds 127.0.0.1 only.
 *
 * <pre>{@code java -cp affinity-loadtest.jar dev.affinity.loadtest.EchoServer ws-1 9001}</pre>
 */
public final class EchoServer implements AutoCloseable {
  private final EventLoopGroup group;
  private final Channel channel;

  private EchoServer(String id, int port, int threads) throws InterruptedException {
    group = new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
    WebSocketServerProtocolConfig config =
        WebSocketServerProtocolConfig.newBuilder()
            .websocketPath("/")
            .checkStartsWith(true)
            .maxFramePayloadLength(16 * 1024 * 1024)
            .build();
    channel =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast(new HttpServerCodec())
                        .addLast(new HttpObjectAggregator(65536))
                        .addLast(new WebSocketServerProtocolHandler(config))
                        .addLast(new Echo(id));
                  }
                })
            .bind("127.0.0.1", port)
            .sync()
            .channel();
  }

  /** Starts a backend on 127.0.0.1:{@code port} (0 for an ephemeral port). */
  public static EchoServer start(String id, int port, int threads) throws InterruptedException {
    return new EchoServer(id, port, threads);
  }

  /** The bound port. */
  public int port() {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }

  private static final class Echo extends SimpleChannelInboundHandler<WebSocketFrame> {
    private final String id;

    Echo(String id) {
      super(false);
      this.id = id;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
        ctx.writeAndFlush(new TextWebSocketFrame("backend:" + id));
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
      if (frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame) {
        ctx.writeAndFlush(frame);
      } else {
        frame.release();
      }
    }
  }

  /** Runs backends {@code id port [id port ...]} until killed; prints "ready" when bound. */
  public static void main(String[] args) throws Exception {
    if (args.length == 0 || args.length % 2 != 0) {
      System.err.println("usage: EchoServer <id> <port> [<id> <port> ...]");
      System.exit(2);
    }
    for (int i = 0; i < args.length; i += 2) {
      EchoServer s = start(args[i], Integer.parseInt(args[i + 1]), 1);
      System.out.println("backend " + args[i] + " listening on 127.0.0.1:" + s.port());
    }
    System.out.println("ready");
    Thread.currentThread().join();
  }
}

package dev.affinity.loadtest;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Echo backends for benchmarks: each accepts WebSocket upgrades on 127.0.0.1, announces {@code
 * backend:<id>} as its first text frame, then echoes every text and binary frame, answers pings and
 * close frames. It works on the wire directly ({@link WsWire}): the payload of each echoed frame is
 * a slice of the bytes read, unmasked in place, so that the backends take as little of the shared
 * cores as they can and the proxy under test gets the rest.
 *
 * <pre>{@code java -cp affinity-loadtest.jar dev.affinity.loadtest.EchoServer ws-1 9001}</pre>
 */
public final class EchoServer implements AutoCloseable {
  private final EventLoopGroup group;
  private final Channel channel;

  private EchoServer(EventLoopGroup group, Channel channel) {
    this.group = group;
    this.channel = channel;
  }

  /**
   * Starts a backend on 127.0.0.1:{@code port} (0 for an ephemeral port) with {@code threads} I/O
   * threads.
   *
   * @throws InterruptedException if interrupted while binding
   */
  public static EchoServer start(String id, int port, int threads) throws InterruptedException {
    EventLoopGroup group = WsWire.group(threads);
    try {
      Channel ch =
          new ServerBootstrap()
              .group(group)
              .channel(WsWire.serverChannel())
              .option(ChannelOption.SO_BACKLOG, 4096)
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childHandler(
                  new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                      ch.pipeline().addLast(new Echo(id));
                    }
                  })
              .bind("127.0.0.1", port)
              .sync()
              .channel();
      return new EchoServer(group, ch);
    } catch (InterruptedException | RuntimeException e) {
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      throw e;
    }
  }

  /** The bound port. */
  public int port() {
    return ((java.net.InetSocketAddress) channel.localAddress()).getPort();
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** One backend connection: the upgrade, then frames echoed as they arrive. */
  private static final class Echo extends ByteToMessageDecoder {
    private final String id;
    private boolean upgraded;
    private boolean closing;

    Echo(String id) {
      this.id = id;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      if (closing) {
        in.skipBytes(in.readableBytes());
        return;
      }
      if (!upgraded) {
        int end = WsWire.headEnd(in);
        if (end < 0) {
          if (in.readableBytes() > WsWire.MAX_HEAD) {
            fail(ctx, "431 Request Header Fields Too Large");
            in.skipBytes(in.readableBytes());
          }
          return;
        }
        String head = in.toString(in.readerIndex(), end - in.readerIndex(), StandardCharsets.UTF_8);
        in.readerIndex(end);
        String key = WsWire.header(head, "Sec-WebSocket-Key");
        if (!head.startsWith("GET ") || key == null) {
          fail(ctx, "400 Bad Request");
          in.skipBytes(in.readableBytes());
          return;
        }
        upgraded = true;
        String response =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: "
                + WsWire.accept(key)
                + "\r\n\r\n";
        ctx.write(ctx.alloc().buffer().writeBytes(response.getBytes(StandardCharsets.US_ASCII)));
        ctx.write(WsWire.serverText(ctx.alloc(), "backend:" + id));
      }
      while (true) {
        WsWire.Header h = WsWire.peekHeader(in);
        if (h == null || in.readableBytes() < h.size + h.length) {
          return;
        }
        if (h.length > Integer.MAX_VALUE - 16) {
          closing = true;
          ctx.close();
          return;
        }
        int len = (int) h.length;
        in.skipBytes(h.size);
        WsWire.unmask(in, in.readerIndex(), len, h.mask);
        ByteBuf payload = in.readRetainedSlice(len);
        int opcode = h.opcode == WsWire.OP_PING ? WsWire.OP_PONG : h.opcode;
        ByteBuf header = ctx.alloc().buffer(WsWire.headerSize(len, false));
        // Echo fragment by fragment, keeping FIN as it came.
        WsWire.writeHeader(header, opcode, len, false);
        if (!h.fin) {
          header.setByte(0, header.getByte(0) & 0x7F);
        }
        ctx.write(header);
        ctx.write(payload);
        if (h.opcode == WsWire.OP_CLOSE) {
          closing = true;
          ctx.writeAndFlush(ctx.alloc().buffer(0)).addListener(ChannelFutureListener.CLOSE);
          return;
        }
      }
    }

    private void fail(ChannelHandlerContext ctx, String status) {
      closing = true;
      String response = "HTTP/1.1 " + status + "\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
      ctx.writeAndFlush(
              ctx.alloc().buffer().writeBytes(response.getBytes(StandardCharsets.US_ASCII)))
          .addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
      ctx.flush();
      super.channelReadComplete(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
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
      System.out.println(
          "backend "
              + args[i]
              + " listening on 127.0.0.1:"
              + s.port()
              + " ("
              + WsWire.transportName()
              + ")");
    }
    System.out.println("ready");
    Thread.currentThread().join();
  }
}

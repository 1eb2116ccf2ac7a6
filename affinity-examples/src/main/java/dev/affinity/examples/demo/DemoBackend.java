package dev.affinity.examples.demo;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler.HandshakeComplete;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * One embedded WebSocket backend of the demo, on Netty's own WebSocket server: on open it sends a
 * JSON greeting naming itself and the fingerprint of the affinity cookie it received through the
 * proxy, then echoes text frames. It binds 127.0.0.1 only.
 *
 * <p>{@link #stop()} closes the listening socket and every open connection, as a crashed backend
 * would; {@link #start()} listens again on the same port, so the proxy's {@code Backend} address
 * stays valid.
 */
public final class DemoBackend implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String id;
  private final String cookieName;
  private final EventLoopGroup group;
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final AtomicLong accepted = new AtomicLong();
  private int port;
  private @Nullable Channel listener;

  private DemoBackend(String id, String cookieName, EventLoopGroup group) {
    this.id = id;
    this.cookieName = cookieName;
    this.group = group;
  }

  /**
   * Starts a backend on 127.0.0.1 at an ephemeral port, on {@code group}'s event loops (the caller
   * owns the group).
   *
   * @param id the backend id it announces
   * @param cookieName the affinity cookie whose fingerprint it reports
   */
  public static DemoBackend start(String id, String cookieName, EventLoopGroup group) {
    DemoBackend b =
        new DemoBackend(
            requireNonNull(id, "id"),
            requireNonNull(cookieName, "cookieName"),
            requireNonNull(group, "group"));
    b.start();
    return b;
  }

  /** The id this backend announces. */
  public String id() {
    return id;
  }

  /** The port it listens on while running (the same after a restart). */
  public synchronized int port() {
    return port;
  }

  /** Whether it is listening. */
  public synchronized boolean isRunning() {
    return listener != null;
  }

  /** Open WebSocket connections. */
  public int openConnections() {
    return connections.size();
  }

  /**
   * Listens again (on the same port after a {@link #stop()}); does nothing while running.
   *
   * @throws IllegalStateException if the port cannot be bound
   */
  public synchronized void start() {
    if (listener != null) {
      return;
    }
    WebSocketServerProtocolConfig config =
        WebSocketServerProtocolConfig.newBuilder()
            .websocketPath("/")
            .checkStartsWith(true)
            .maxFramePayloadLength(64 * 1024)
            .build();
    try {
      listener =
          new ServerBootstrap()
              .group(group)
              .channel(NioServerSocketChannel.class)
              .childHandler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      connections.add(ch);
                      ch.pipeline()
                          .addLast(new HttpServerCodec())
                          .addLast(new HttpObjectAggregator(16 * 1024))
                          .addLast(new WebSocketServerProtocolHandler(config))
                          .addLast(new Greeter());
                    }
                  })
              .bind("127.0.0.1", port)
              .sync()
              .channel();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(id + ": interrupted while binding", e);
    } catch (RuntimeException e) {
      throw new IllegalStateException(id + ": cannot listen on 127.0.0.1:" + port, e);
    }
    port = ((InetSocketAddress) listener.localAddress()).getPort();
  }

  /** Stops listening and closes every open connection; does nothing when stopped. */
  public synchronized void stop() {
    Channel l = listener;
    if (l == null) {
      return;
    }
    listener = null;
    l.close().syncUninterruptibly();
    connections.close().awaitUninterruptibly();
  }

  /** Same as {@link #stop()}. */
  @Override
  public void close() {
    stop();
  }

  @Override
  public String toString() {
    return "DemoBackend{" + id + " 127.0.0.1:" + port() + (isRunning() ? "" : " stopped") + "}";
  }

  /** Greets on handshake, then echoes. */
  private final class Greeter extends SimpleChannelInboundHandler<TextWebSocketFrame> {
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof HandshakeComplete) {
        HandshakeComplete hs = (HandshakeComplete) evt;
        ObjectNode hello = JSON.createObjectNode();
        hello.put("type", "hello");
        hello.put("backend", id);
        hello.put("connection", accepted.incrementAndGet());
        String cookie = affinityCookie(hs.requestHeaders().getAll(HttpHeaderNames.COOKIE));
        if (cookie == null) {
          hello.putNull("cookie");
        } else {
          hello.put("cookie", CookieFingerprint.of(cookie));
        }
        ctx.writeAndFlush(new TextWebSocketFrame(JSON.writeValueAsString(hello)));
      }
      super.userEventTriggered(ctx, evt);
    }

    private @Nullable String affinityCookie(Iterable<String> headers) {
      for (String header : headers) {
        for (Cookie c : ServerCookieDecoder.STRICT.decodeAll(header)) {
          if (c.name().equals(cookieName)) {
            return c.value();
          }
        }
      }
      return null;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame frame) {
      ctx.writeAndFlush(new TextWebSocketFrame(frame.text()));
    }
  }
}

package dev.affinity.testkit;

import static java.util.Objects.requireNonNull;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.http.websocketx.extensions.compression.WebSocketServerCompressionHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.jspecify.annotations.Nullable;

/**
 * A real WebSocket echo backend on 127.0.0.1 for adapter tests and benchmarks.
 *
 * <p>On open it sends {@code backend:<id>} as its first text frame, then echoes every text and
 * binary frame (fragmented messages are echoed frame by frame). It also has the behaviours that
 * proxy tests need:
 *
 * <ul>
 *   <li>{@link #stop()} and {@link #start()} again on the same port, closing every open connection;
 *   <li>subprotocol negotiation ({@link Builder#subprotocols}, {@code *} accepts the first offer)
 *       and {@code permessage-deflate} negotiation when the client offers it;
 *   <li>{@code GET /status/<code>} answers that HTTP status (for example 401) instead of 101, with
 *       a short text body, or {@code /status/<code>?bytes=<n>} with a body of {@code n} bytes
 *       {@code x};
 *   <li>{@code GET /burst} writes its 101 and the {@code backend:<id>} frame in one TCP write, so a
 *       proxy reads the first frame in the same read as the 101;
 *   <li>{@link #hang(boolean)}: accept TCP, read, never answer;
 *   <li>the text message {@code flood:<bytes>} makes it send that many bytes in binary frames of 64
 *       KiB, honouring its own channel's writability, so tests can observe back-pressure through a
 *       proxy ({@link #floodBytesSent()}, {@link #floodStalledNanos()});
 *   <li>the text message {@code delay:<ms> <text>} echoes {@code <text>} after {@code <ms>}
 *       milliseconds, so a test can await a tunnel staying open past a timeout without sleeping.
 * </ul>
 *
 * <p>Every handshake request it sees is recorded ({@link #handshakes()}) so tests can check what a
 * proxy forwarded.
 *
 * <pre>{@code
 * try (EchoBackend ws1 = EchoBackend.start("ws-1")) {
 *   Backend backend = Backend.of("ws-1", "127.0.0.1", ws1.port());
 * }
 * }</pre>
 */
public final class EchoBackend implements AutoCloseable {
  /** The frame size the backend uses when flooding. */
  public static final int FLOOD_FRAME_SIZE = 64 * 1024;

  private static final int MAX_FRAME = 16 * 1024 * 1024;
  private static final AttributeKey<Flood> FLOOD = AttributeKey.valueOf("affinity.testkit.flood");
  private static final String WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

  private final String id;
  private final String subprotocols;
  private final @Nullable SSLContext tls;
  private final List<String[]> on101;
  private final EventLoopGroup group;
  private final ChannelGroup children = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final AtomicBoolean hang = new AtomicBoolean();
  private final AtomicInteger opened = new AtomicInteger();
  private final AtomicLong floodSent = new AtomicLong();
  private final AtomicLong floodStalledSince = new AtomicLong();
  private final ConcurrentLinkedQueue<FullHttpRequest> handshakes = new ConcurrentLinkedQueue<>();
  private volatile int port;
  private volatile @Nullable Channel server;
  private @Nullable DeadPort reserved;

  private EchoBackend(Builder b) {
    this.id = b.id;
    this.port = b.port;
    this.subprotocols = b.subprotocols;
    this.tls = b.tls;
    this.on101 = List.copyOf(b.on101);
    this.group = new MultiThreadIoEventLoopGroup(b.threads, NioIoHandler.newFactory());
  }

  /** Starts a backend on an ephemeral port with the defaults. */
  public static EchoBackend start(String id) {
    return builder(id).start();
  }

  /** Returns a builder for a backend that announces {@code id}. */
  public static Builder builder(String id) {
    return new Builder(id);
  }

  /** The id the backend announces. */
  public String id() {
    return id;
  }

  /** The bound port (stays the same across {@link #stop()} and {@link #start()}). */
  public int port() {
    return port;
  }

  /** Whether the listening socket is bound. */
  public boolean isRunning() {
    return server != null;
  }

  /**
   * Binds the port again after {@link #stop()}.
   *
   * @throws IllegalStateException if the port cannot be bound
   */
  public synchronized EchoBackend start() {
    if (server != null) {
      return this;
    }
    DeadPort r = reserved;
    if (r != null) {
      r.close();
      reserved = null;
    }
    try {
      Channel ch =
          new ServerBootstrap()
              .group(group)
              .channel(NioServerSocketChannel.class)
              .option(ChannelOption.SO_REUSEADDR, true)
              .childHandler(new Initializer())
              .bind("127.0.0.1", port)
              .sync()
              .channel();
      port = ((InetSocketAddress) ch.localAddress()).getPort();
      server = ch;
      return this;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while binding " + id, e);
    } catch (RuntimeException e) {
      throw new IllegalStateException("cannot bind " + id + " on port " + port, e);
    }
  }

  /**
   * Closes the listening socket and every open connection (a TCP close, as when the process dies).
   * The port stays reserved for {@link #start()}.
   */
  public synchronized void stop() {
    Channel ch = server;
    server = null;
    if (ch != null) {
      ch.close().syncUninterruptibly();
      reserved = DeadPort.reserve(port); // refuse connections, and keep neighbours off the port
    }
    children.close().syncUninterruptibly();
  }

  /** While true, accepted connections are read and never answered. */
  public void hang(boolean hang) {
    this.hang.set(hang);
  }

  /** The number of connections currently open to this backend. */
  public int openConnections() {
    return children.size();
  }

  /** The number of WebSocket sessions opened since start. */
  public int sessionsOpened() {
    return opened.get();
  }

  /** The handshake requests received, oldest first (header-only copies; nothing to release). */
  public List<FullHttpRequest> handshakes() {
    return List.copyOf(handshakes);
  }

  /** The bytes sent so far by {@code flood:} requests, over all connections. */
  public long floodBytesSent() {
    return floodSent.get();
  }

  /**
   * How long a flood has been stalled on an unwritable channel, in nanoseconds; 0 when no flood is
   * currently stalled.
   */
  public long floodStalledNanos() {
    long since = floodStalledSince.get();
    return since == 0 ? 0 : Math.max(1, System.nanoTime() - since);
  }

  @Override
  public synchronized void close() {
    stop();
    if (reserved != null) {
      reserved.close();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Override
  public String toString() {
    return "EchoBackend{" + id + " on 127.0.0.1:" + port + (isRunning() ? "" : ", stopped") + "}";
  }

  private final class Initializer extends ChannelInitializer<SocketChannel> {
    @Override
    protected void initChannel(SocketChannel ch) {
      children.add(ch);
      SSLContext t = tls;
      if (t != null) {
        SSLEngine engine = t.createSSLEngine();
        engine.setUseClientMode(false);
        ch.pipeline().addLast(new SslHandler(engine));
      }
      if (hang.get()) {
        ch.pipeline().addLast(new Swallow());
        return;
      }
      WebSocketServerProtocolConfig config =
          WebSocketServerProtocolConfig.newBuilder()
              .websocketPath("/")
              .checkStartsWith(true)
              .subprotocols(subprotocols.isEmpty() ? null : subprotocols)
              .maxFramePayloadLength(MAX_FRAME)
              .allowExtensions(true) // permessage-deflate sets RSV1
              .handshakeTimeoutMillis(30_000)
              .build();
      ch.pipeline().addLast(new HttpServerCodec());
      if (!on101.isEmpty()) {
        ch.pipeline().addLast(new FieldsOn101(on101));
      }
      ch.pipeline()
          .addLast(new HttpObjectAggregator(65536))
          .addLast(new Special())
          .addLast(new WebSocketServerCompressionHandler(MAX_FRAME))
          .addLast(new WebSocketServerProtocolHandler(config))
          .addLast(new Echo());
    }
  }

  /** Adds the configured fields to the 101 the protocol handler writes, then steps aside. */
  private static final class FieldsOn101 extends ChannelOutboundHandlerAdapter {
    private final List<String[]> fields;

    FieldsOn101(List<String[]> fields) {
      this.fields = fields;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof HttpResponse) {
        HttpResponse res = (HttpResponse) msg;
        if (res.status().code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
          for (String[] f : fields) {
            res.headers().add(f[0], f[1]);
          }
        }
      }
      ctx.write(msg, promise);
    }
  }

  /** Reads everything, answers nothing. */
  private static final class Swallow extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
    }
  }

  /** Records handshakes; answers {@code /status/<code>} and {@code /burst} itself. */
  private final class Special extends SimpleChannelInboundHandler<FullHttpRequest> {
    Special() {
      super(false);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      FullHttpRequest copy = req.replace(Unpooled.EMPTY_BUFFER);
      handshakes.add(copy);
      String path = req.uri();
      if (path.startsWith("/status/")) {
        req.release();
        int code = Integer.parseInt(path.substring("/status/".length()).replaceAll("\\D.*", ""));
        int q = path.indexOf("?bytes=");
        byte[] body =
            q >= 0
                ? "x"
                    .repeat(Integer.parseInt(path.substring(q + "?bytes=".length())))
                    .getBytes(StandardCharsets.UTF_8)
                : ("backend " + id + " says " + code).getBytes(StandardCharsets.UTF_8);
        FullHttpResponse res =
            new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(code),
                Unpooled.wrappedBuffer(body));
        res.headers()
            .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
            .set(HttpHeaderNames.CONTENT_LENGTH, body.length)
            .set("X-Backend", id)
            .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
        return;
      }
      if (path.startsWith("/burst")) {
        String key = req.headers().get(HttpHeaderNames.SEC_WEBSOCKET_KEY, "");
        req.release();
        burst(ctx, key);
        return;
      }
      // Netty's handshaker reads only the first Sec-WebSocket-Protocol line; clients such as
      // Jetty's send one line per offer.
      List<String> offers = req.headers().getAll(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL);
      if (offers.size() > 1) {
        req.headers().set(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, String.join(",", offers));
      }
      ctx.fireChannelRead(req);
    }

    private void burst(ChannelHandlerContext ctx, String key) {
      String head =
          "HTTP/1.1 101 Switching Protocols\r\n"
              + "Upgrade: websocket\r\n"
              + "Connection: Upgrade\r\n"
              + "Sec-WebSocket-Accept: "
              + accept(key)
              + "\r\n"
              + "Set-Cookie: backend-session="
              + id
              + "; Path=/\r\n\r\n";
      byte[] text = ("backend:" + id).getBytes(StandardCharsets.UTF_8);
      ByteBuf out = ctx.alloc().buffer(head.length() + 2 + text.length);
      out.writeCharSequence(head, StandardCharsets.US_ASCII);
      out.writeByte(0x81).writeByte(text.length).writeBytes(text); // FIN + text, unmasked
      Channel ch = ctx.channel();
      // Everything between the codec and Echo serves the normal handshake: drop it.
      for (String name : ch.pipeline().names()) {
        ChannelHandler h = ch.pipeline().get(name);
        if (h != null && !(h instanceof HttpServerCodec) && !(h instanceof Echo)) {
          ch.pipeline().remove(h);
        }
      }
      ch.pipeline()
          .addBefore(
              ch.pipeline().context(Echo.class).name(),
              "ws-decoder",
              new WebSocket13FrameDecoder(
                  WebSocketDecoderConfig.newBuilder()
                      .expectMaskedFrames(true)
                      .maxFramePayloadLength(MAX_FRAME)
                      .build()))
          .addBefore("ws-decoder", "ws-encoder", new WebSocket13FrameEncoder(false));
      opened.incrementAndGet();
      HttpServerCodec codec = ch.pipeline().get(HttpServerCodec.class);
      codec.removeOutboundHandler(); // the raw head must not meet the HTTP encoder
      ch.writeAndFlush(out).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
      // The decoder goes last, so bytes it already buffered reach the frame decoder.
      ch.pipeline().remove(codec);
    }
  }

  /** Announces the id, echoes frames, serves {@code flood:}. */
  private final class Echo extends SimpleChannelInboundHandler<WebSocketFrame> {
    Echo() {
      super(false);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
        opened.incrementAndGet();
        ctx.writeAndFlush(new TextWebSocketFrame("backend:" + id));
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
      if (frame instanceof TextWebSocketFrame && frame.isFinalFragment()) {
        String text = ((TextWebSocketFrame) frame).text();
        if (text.startsWith("flood:")) {
          frame.release();
          long bytes = Long.parseLong(text.substring("flood:".length()));
          Flood flood = new Flood(bytes);
          ctx.channel().attr(FLOOD).set(flood);
          flood.pump(ctx);
          return;
        }
        if (text.startsWith("delay:")) {
          // "delay:<ms> <text>": echoes <text> after <ms>, to keep a tunnel busy-free for a while.
          frame.release();
          int space = text.indexOf(' ');
          long millis = Long.parseLong(text.substring("delay:".length(), space));
          String reply = text.substring(space + 1);
          ctx.executor()
              .schedule(
                  () -> ctx.writeAndFlush(new TextWebSocketFrame(reply)),
                  millis,
                  java.util.concurrent.TimeUnit.MILLISECONDS);
          return;
        }
      }
      if (frame instanceof TextWebSocketFrame
          || frame instanceof BinaryWebSocketFrame
          || frame instanceof ContinuationWebSocketFrame) {
        ctx.writeAndFlush(frame);
      } else if (frame instanceof CloseWebSocketFrame) {
        // Only reached on the /burst pipeline: the protocol handler answers closes elsewhere.
        ctx.writeAndFlush(frame).addListener(ChannelFutureListener.CLOSE);
      } else {
        frame.release();
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      Flood flood = ctx.channel().attr(FLOOD).get();
      if (flood != null && ctx.channel().isWritable()) {
        flood.pump(ctx);
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (ctx.channel().attr(FLOOD).get() != null) {
        floodStalledSince.set(0);
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close(); // a client vanished mid-write: expected in tests that kill things
    }
  }

  /** One connection's flood: writes while writable, records when it stalls. */
  private final class Flood {
    private long remaining;

    Flood(long bytes) {
      this.remaining = bytes;
    }

    void pump(ChannelHandlerContext ctx) {
      floodStalledSince.set(0);
      while (remaining > 0 && ctx.channel().isWritable()) {
        int n = (int) Math.min(FLOOD_FRAME_SIZE, remaining);
        ByteBuf payload = ctx.alloc().buffer(n).writeZero(n);
        ctx.writeAndFlush(new BinaryWebSocketFrame(payload));
        remaining -= n;
        floodSent.addAndGet(n);
      }
      if (remaining > 0) {
        floodStalledSince.compareAndSet(0, System.nanoTime());
      }
    }
  }

  static String accept(String key) {
    try {
      byte[] sha1 =
          MessageDigest.getInstance("SHA-1")
              .digest((key + WS_GUID).getBytes(StandardCharsets.US_ASCII));
      return Base64.getEncoder().encodeToString(sha1);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is required by every JRE", e);
    }
  }

  /** Configures an {@link EchoBackend}. */
  public static final class Builder {
    private final String id;
    private int port;
    private int threads = 1;
    private String subprotocols = "";
    private @Nullable SSLContext tls;
    private final List<String[]> on101 = new ArrayList<>();

    private Builder(String id) {
      this.id = requireNonNull(id, "id");
    }

    /** The port to bind; 0 (the default) for an ephemeral one. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port: " + port + " (expected: 0..65535)");
      }
      this.port = port;
      return this;
    }

    /** Event loop threads; default 1. */
    public Builder threads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("threads: " + threads + " (expected: >= 1)");
      }
      this.threads = threads;
      return this;
    }

    /**
     * Subprotocols the backend accepts, in preference order; {@code "*"} accepts whatever the
     * client offers first. Default: none (a client's offer is ignored).
     */
    public Builder subprotocols(String... subprotocols) {
      this.subprotocols = String.join(",", subprotocols);
      return this;
    }

    /** Serve {@code wss://}: TLS with this server context. Default: plain {@code ws://}. */
    public Builder tls(SSLContext serverContext) {
      this.tls = requireNonNull(serverContext, "serverContext");
      return this;
    }

    /**
     * Adds a field to every 101 the backend answers, as an application sets its session cookie on
     * the upgrade ({@code on101("Set-Cookie", "JSESSIONID=abc; Path=/")}). May be called again for
     * more fields.
     */
    public Builder on101(String name, String value) {
      on101.add(new String[] {requireNonNull(name, "name"), requireNonNull(value, "value")});
      return this;
    }

    /** Builds and binds the backend. */
    public EchoBackend start() {
      return new EchoBackend(this).start();
    }
  }
}

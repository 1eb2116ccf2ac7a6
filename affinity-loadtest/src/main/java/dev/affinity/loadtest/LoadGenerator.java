package dev.affinity.loadtest;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A WebSocket load generator over loopback: opens C connections with at most K handshakes in
 * flight, then runs M echo round trips on each, one at a time, and reports handshakes/s,
 * messages/s, handshake and round-trip p50/p99, errors and how connections spread over backends
 * (each backend announces {@code backend:<id>} first, as {@link EchoServer} does).
 *
 * <p>Connections are spread over source addresses 127.0.0.2, 127.0.0.3, ... so that source-IP
 * hashing proxies (HAProxy {@code balance source}, NGINX {@code hash $remote_addr consistent},
 * affinity's {@code sourceIp()}) see many clients. With {@code --idle-seconds}, every connection is
 * then held open that long and the report says how many were still open at the end.
 */
public final class LoadGenerator {
  /** What to run. */
  public static final class Options {
    URI uri = URI.create("ws://127.0.0.1:8080/");
    int connections = 1000;
    int concurrency = 100;
    int messages = 100;
    int size = 64;
    int idleSeconds;
    int sourceAddresses = 200;
    int timeoutSeconds = 120;
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors());

    /** Parses {@code --name value} pairs; unknown flags fail with the flag's name. */
    public static Options parse(String... args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i += 2) {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(args[i] + ": missing value");
        }
        String v = args[i + 1];
        switch (args[i]) {
          case "--uri" -> o.uri = URI.create(v);
          case "--connections" -> o.connections = positive(args[i], v);
          case "--concurrency" -> o.concurrency = positive(args[i], v);
          case "--messages" -> o.messages = Integer.parseInt(v);
          case "--size" -> o.size = positive(args[i], v);
          case "--idle-seconds" -> o.idleSeconds = Integer.parseInt(v);
          case "--source-addresses" -> o.sourceAddresses = positive(args[i], v);
          case "--timeout-seconds" -> o.timeoutSeconds = positive(args[i], v);
          case "--threads" -> o.threads = positive(args[i], v);
          default -> throw new IllegalArgumentException(args[i] + ": unknown flag");
        }
      }
      return o;
    }

    private static int positive(String flag, String v) {
      int n = Integer.parseInt(v);
      if (n <= 0) {
        throw new IllegalArgumentException(flag + ": " + v + " (expected: > 0)");
      }
      return n;
    }
  }

  /** The measured results. */
  public static final class Report {
    public final int connections;
    public final int handshakes;
    public final long messages;
    public final int errors;
    public final int stillOpenAfterIdle;
    public final double handshakesPerSecond;
    public final double messagesPerSecond;
    public final double handshakeP50Ms;
    public final double handshakeP99Ms;
    public final double rttP50Ms;
    public final double rttP99Ms;
    public final Map<String, Integer> perBackend;

    Report(
        int connections,
        int handshakes,
        long messages,
        int errors,
        int stillOpenAfterIdle,
        double handshakesPerSecond,
        double messagesPerSecond,
        long[] handshakeNanos,
        long[] rttNanos,
        Map<String, Integer> perBackend) {
      this.connections = connections;
      this.handshakes = handshakes;
      this.messages = messages;
      this.errors = errors;
      this.stillOpenAfterIdle = stillOpenAfterIdle;
      this.handshakesPerSecond = handshakesPerSecond;
      this.messagesPerSecond = messagesPerSecond;
      this.handshakeP50Ms = percentileMs(handshakeNanos, 0.50);
      this.handshakeP99Ms = percentileMs(handshakeNanos, 0.99);
      this.rttP50Ms = percentileMs(rttNanos, 0.50);
      this.rttP99Ms = percentileMs(rttNanos, 0.99);
      this.perBackend = perBackend;
    }

    private static double percentileMs(long[] values, double p) {
      if (values.length == 0) {
        return Double.NaN;
      }
      long[] sorted = values.clone();
      Arrays.sort(sorted);
      int i = (int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
      return sorted[Math.max(0, i)] / 1e6;
    }

    /** One JSON object on one line, for scripts. */
    public String toJson() {
      StringBuilder backends = new StringBuilder("{");
      perBackend.forEach(
          (k, v) ->
              backends
                  .append(backends.length() > 1 ? "," : "")
                  .append('"')
                  .append(k)
                  .append("\":")
                  .append(v));
      backends.append('}');
      return String.format(
          java.util.Locale.ROOT,
          "{\"connections\":%d,\"handshakes\":%d,\"messages\":%d,\"errors\":%d,"
              + "\"stillOpenAfterIdle\":%d,\"handshakesPerSecond\":%.1f,\"messagesPerSecond\":%.1f,"
              + "\"handshakeP50Ms\":%.3f,\"handshakeP99Ms\":%.3f,\"rttP50Ms\":%.3f,"
              + "\"rttP99Ms\":%.3f,\"perBackend\":%s}",
          connections,
          handshakes,
          messages,
          errors,
          stillOpenAfterIdle,
          handshakesPerSecond,
          messagesPerSecond,
          handshakeP50Ms,
          handshakeP99Ms,
          rttP50Ms,
          rttP99Ms,
          backends);
    }
  }

  private LoadGenerator() {}

  /** Runs the load described by {@code o} and returns the report. */
  public static Report run(Options o) throws InterruptedException {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(o.threads, NioIoHandler.newFactory());
    int port = o.uri.getPort() > 0 ? o.uri.getPort() : 80;
    InetSocketAddress remote = new InetSocketAddress(o.uri.getHost(), port);
    Semaphore inFlight = new Semaphore(o.concurrency);
    CountDownLatch finished = new CountDownLatch(o.connections);
    long[] handshakeNanos = new long[o.connections];
    long[] rttNanos = new long[o.connections * Math.max(0, o.messages)];
    AtomicInteger handshakes = new AtomicInteger();
    AtomicInteger rttCount = new AtomicInteger();
    AtomicInteger errors = new AtomicInteger();
    AtomicLong lastHandshake = new AtomicLong();
    Map<String, AtomicInteger> perBackend = new ConcurrentHashMap<>();
    List<Channel> channels = new ArrayList<>();
    String payload = "x".repeat(Math.max(0, o.size - 12));
    long start = System.nanoTime();
    try {
      for (int i = 0; i < o.connections; i++) {
        inFlight.acquire();
        Conn conn =
            new Conn(
                o,
                payload,
                start,
                i,
                inFlight,
                finished,
                handshakeNanos,
                rttNanos,
                handshakes,
                rttCount,
                errors,
                lastHandshake,
                perBackend);
        HttpHeaders headers = new DefaultHttpHeaders();
        WebSocketClientProtocolConfig config =
            WebSocketClientProtocolConfig.newBuilder()
                .webSocketUri(o.uri)
                .version(WebSocketVersion.V13)
                .customHeaders(headers)
                .maxFramePayloadLength(16 * 1024 * 1024)
                .handshakeTimeoutMillis(TimeUnit.SECONDS.toMillis(o.timeoutSeconds))
                .build();
        Bootstrap b =
            new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(
                    new ChannelInitializer<SocketChannel>() {
                      @Override
                      protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                            .addLast(new HttpClientCodec())
                            .addLast(new HttpObjectAggregator(65536))
                            .addLast(new WebSocketClientProtocolHandler(config))
                            .addLast(conn);
                      }
                    });
        InetSocketAddress local =
            new InetSocketAddress("127.0.0." + (2 + i % Math.min(o.sourceAddresses, 250)), 0);
        conn.started = System.nanoTime();
        ChannelFuture f = b.connect(remote, local);
        channels.add(f.channel());
        f.addListener(
            cf -> {
              if (!cf.isSuccess()) {
                conn.fail();
              }
            });
      }
      boolean done = finished.await(o.timeoutSeconds, TimeUnit.SECONDS);
      long end = System.nanoTime();
      int stillOpen = 0;
      if (o.idleSeconds > 0) {
        Thread.sleep(TimeUnit.SECONDS.toMillis(o.idleSeconds));
        for (Channel c : channels) {
          if (c.isActive()) {
            stillOpen++;
          }
        }
      }
      if (!done) {
        errors.addAndGet((int) finished.getCount());
      }
      double seconds = (end - start) / 1e9;
      double handshakeSeconds = Math.max(1, lastHandshake.get() - start) / 1e9;
      Map<String, Integer> spread = new TreeMap<>();
      perBackend.forEach((k, v) -> spread.put(k, v.get()));
      int hs = handshakes.get();
      int rt = rttCount.get();
      return new Report(
          o.connections,
          hs,
          rt,
          errors.get(),
          stillOpen,
          hs / handshakeSeconds,
          rt / seconds,
          Arrays.copyOf(handshakeNanos, Math.min(hs, handshakeNanos.length)),
          Arrays.copyOf(rttNanos, Math.min(rt, rttNanos.length)),
          spread);
    } finally {
      for (Channel c : channels) {
        c.close();
      }
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
    }
  }

  /** One client connection's state machine: handshake, announce, M echoes, then done. */
  private static final class Conn extends SimpleChannelInboundHandler<WebSocketFrame> {
    private final Options o;
    private final String payload;
    private final long runStart;
    private final int index;
    private final Semaphore inFlight;
    private final CountDownLatch finished;
    private final long[] handshakeNanos;
    private final long[] rttNanos;
    private final AtomicInteger handshakes;
    private final AtomicInteger rttCount;
    private final AtomicInteger errors;
    private final AtomicLong lastHandshake;
    private final Map<String, AtomicInteger> perBackend;
    volatile long started;
    private boolean permitReleased;
    private boolean finishedOnce;
    private boolean announced;
    private int sent;
    private long sentAt;
    private String expected = "";

    Conn(
        Options o,
        String payload,
        long runStart,
        int index,
        Semaphore inFlight,
        CountDownLatch finished,
        long[] handshakeNanos,
        long[] rttNanos,
        AtomicInteger handshakes,
        AtomicInteger rttCount,
        AtomicInteger errors,
        AtomicLong lastHandshake,
        Map<String, AtomicInteger> perBackend) {
      this.o = o;
      this.payload = payload;
      this.runStart = runStart;
      this.index = index;
      this.inFlight = inFlight;
      this.finished = finished;
      this.handshakeNanos = handshakeNanos;
      this.rttNanos = rttNanos;
      this.handshakes = handshakes;
      this.rttCount = rttCount;
      this.errors = errors;
      this.lastHandshake = lastHandshake;
      this.perBackend = perBackend;
    }

    private synchronized void release() {
      if (!permitReleased) {
        permitReleased = true;
        inFlight.release();
      }
    }

    private synchronized void finish(boolean ok) {
      if (!finishedOnce) {
        finishedOnce = true;
        if (!ok) {
          errors.incrementAndGet();
        }
        finished.countDown();
      }
      release();
    }

    void fail() {
      finish(false);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
        long now = System.nanoTime();
        handshakeNanos[handshakes.getAndIncrement()] = now - started;
        lastHandshake.accumulateAndGet(now, Math::max);
        release();
      } else if (evt
          == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_TIMEOUT) {
        finish(false);
        ctx.close();
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
      if (!(frame instanceof TextWebSocketFrame)) {
        return;
      }
      String text = ((TextWebSocketFrame) frame).text();
      if (!announced) {
        announced = true;
        String backend = text.startsWith("backend:") ? text.substring(8) : "(unannounced)";
        perBackend.computeIfAbsent(backend, k -> new AtomicInteger()).incrementAndGet();
        sendNext(ctx);
        return;
      }
      if (!text.equals(expected)) {
        finish(false);
        ctx.close();
        return;
      }
      int slot = rttCount.getAndIncrement();
      if (slot < rttNanos.length) {
        rttNanos[slot] = System.nanoTime() - sentAt;
      }
      sendNext(ctx);
    }

    private void sendNext(ChannelHandlerContext ctx) {
      if (sent >= o.messages) {
        finish(true);
        if (o.idleSeconds <= 0) {
          ctx.close();
        }
        return;
      }
      expected = index + ":" + sent + ":" + payload;
      sent++;
      sentAt = System.nanoTime();
      ctx.writeAndFlush(new TextWebSocketFrame(expected));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      finish(finishedOnce);
      super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      finish(false);
      ctx.close();
    }
  }

  /** Runs with {@code --uri ws://... --connections C --concurrency K --messages M ...}. */
  public static void main(String[] args) throws Exception {
    Options o;
    try {
      o = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.err.println(
          "usage: LoadGenerator --uri ws://127.0.0.1:8080/ [--connections 1000] [--concurrency 100]"
              + " [--messages 100] [--size 64] [--idle-seconds 0] [--source-addresses 200]"
              + " [--timeout-seconds 120] [--threads N]");
      System.exit(2);
      return;
    }
    Report r = run(o);
    System.out.println(r.toJson());
  }
}

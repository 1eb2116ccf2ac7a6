package dev.affinity.loadtest;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * A WebSocket load generator over loopback, cheap enough not to be the bottleneck on the machine it
 * shares with the proxy under test: it writes and parses frames on the wire itself ({@link WsWire}:
 * no codec objects per message, the all-zero mask key, native epoll where it loads).
 *
 * <p>Two workloads:
 *
 * <ul>
 *   <li>{@code --mode echo} (default): opens C connections with at most K handshakes in flight,
 *       then runs M echo round trips of S bytes on each, one at a time; reports handshakes/s,
 *       messages/s, handshake and round-trip p50/p99.
 *   <li>{@code --mode stream}: opens C connections, then each streams M messages of S bytes with up
 *       to W ({@code --window}) of them not yet echoed; reports the echoed payload in MB/s (10^6
 *       bytes per second, one direction), timed from the first streamed message to the last echo.
 * </ul>
 *
 * <p>Both report errors, how connections spread over backends (each backend announces {@code
 * backend:<id>} first, as {@link EchoServer} does) and the generator's own CPU time, so a run shows
 * how much of the machine the generator took. Connections come from source addresses 127.0.0.2,
 * 127.0.0.3, ... so that source-IP hashing proxies see many clients. With {@code --idle-seconds},
 * every connection is then held open that long and the report says how many were still open.
 */
public final class LoadGenerator {
  /** What to run. */
  public static final class Options {
    URI uri = URI.create("ws://127.0.0.1:8080/");
    boolean stream;
    int connections = 1000;
    int concurrency = 100;
    int messages = 100;
    int size = 64;
    int window = 4;
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
          case "--mode" -> o.stream = mode(v);
          case "--connections" -> o.connections = positive(args[i], v);
          case "--concurrency" -> o.concurrency = positive(args[i], v);
          case "--messages" -> o.messages = atLeastZero(args[i], v);
          case "--size" -> o.size = range(args[i], v, 8, 16 * 1024 * 1024);
          case "--window" -> o.window = positive(args[i], v);
          case "--idle-seconds" -> o.idleSeconds = atLeastZero(args[i], v);
          case "--source-addresses" -> o.sourceAddresses = range(args[i], v, 1, 250);
          case "--timeout-seconds" -> o.timeoutSeconds = positive(args[i], v);
          case "--threads" -> o.threads = positive(args[i], v);
          default -> throw new IllegalArgumentException(args[i] + ": unknown flag");
        }
      }
      return o;
    }

    private static boolean mode(String v) {
      return switch (v) {
        case "echo" -> false;
        case "stream" -> true;
        default -> throw new IllegalArgumentException("--mode: " + v + " (expected: echo, stream)");
      };
    }

    private static int number(String flag, String v) {
      try {
        return Integer.parseInt(v);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(flag + ": " + v + " (expected: a number)", e);
      }
    }

    private static int positive(String flag, String v) {
      int n = number(flag, v);
      if (n <= 0) {
        throw new IllegalArgumentException(flag + ": " + v + " (expected: > 0)");
      }
      return n;
    }

    private static int atLeastZero(String flag, String v) {
      int n = number(flag, v);
      if (n < 0) {
        throw new IllegalArgumentException(flag + ": " + v + " (expected: >= 0)");
      }
      return n;
    }

    private static int range(String flag, String v, int min, int max) {
      int n = number(flag, v);
      if (n < min || n > max) {
        throw new IllegalArgumentException(
            flag + ": " + v + " (expected: " + min + ".." + max + ")");
      }
      return n;
    }
  }

  /** The measured results. */
  public static final class Report {
    public final String mode;
    public final int connections;
    public final int handshakes;
    public final long messages;
    public final long payloadBytes;
    public final int errors;
    public final int stillOpenAfterIdle;
    public final double handshakesPerSecond;
    public final double messagesPerSecond;
    public final double megabytesPerSecond;
    public final double handshakeP50Ms;
    public final double handshakeP99Ms;
    public final double rttP50Ms;
    public final double rttP99Ms;
    public final double seconds;
    public final double cpuSeconds;
    public final String transport;
    public final Map<String, Integer> perBackend;

    Report(
        Options o,
        int handshakes,
        long messages,
        long payloadBytes,
        int errors,
        int stillOpenAfterIdle,
        double handshakeSeconds,
        double seconds,
        double cpuSeconds,
        long[] handshakeNanos,
        long[] rttNanos,
        Map<String, Integer> perBackend) {
      this.mode = o.stream ? "stream" : "echo";
      this.connections = o.connections;
      this.handshakes = handshakes;
      this.messages = messages;
      this.payloadBytes = payloadBytes;
      this.errors = errors;
      this.stillOpenAfterIdle = stillOpenAfterIdle;
      this.handshakesPerSecond = handshakes / handshakeSeconds;
      this.messagesPerSecond = seconds > 0 ? messages / seconds : 0;
      this.megabytesPerSecond = seconds > 0 ? payloadBytes / seconds / 1e6 : 0;
      this.seconds = seconds;
      this.cpuSeconds = cpuSeconds;
      this.transport = WsWire.transportName();
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
          Locale.ROOT,
          "{\"mode\":\"%s\",\"connections\":%d,\"handshakes\":%d,\"messages\":%d,"
              + "\"payloadBytes\":%d,\"errors\":%d,\"stillOpenAfterIdle\":%d,"
              + "\"handshakesPerSecond\":%.1f,\"messagesPerSecond\":%.1f,"
              + "\"megabytesPerSecond\":%.2f,\"handshakeP50Ms\":%.3f,\"handshakeP99Ms\":%.3f,"
              + "\"rttP50Ms\":%.3f,\"rttP99Ms\":%.3f,\"seconds\":%.3f,\"cpuSeconds\":%.3f,"
              + "\"transport\":\"%s\",\"perBackend\":%s}",
          mode,
          connections,
          handshakes,
          messages,
          payloadBytes,
          errors,
          stillOpenAfterIdle,
          handshakesPerSecond,
          messagesPerSecond,
          megabytesPerSecond,
          handshakeP50Ms,
          handshakeP99Ms,
          rttP50Ms,
          rttP99Ms,
          seconds,
          cpuSeconds,
          transport,
          backends);
    }
  }

  /** What all connections of a run share. */
  private static final class Run {
    final Options o;
    final byte[] request;
    final byte[] filler;
    final Semaphore inFlight;
    final CountDownLatch handshook;
    final CountDownLatch finished;
    final long[] handshakeNanos;
    final long[] rttNanos;
    final AtomicInteger handshakes = new AtomicInteger();
    final AtomicInteger rttCount = new AtomicInteger();
    final AtomicLong echoed = new AtomicLong();
    final AtomicLong echoedBytes = new AtomicLong();
    final AtomicInteger errors = new AtomicInteger();
    final AtomicLong lastHandshake = new AtomicLong();
    final AtomicLong firstSend = new AtomicLong(Long.MAX_VALUE);
    final AtomicLong lastEcho = new AtomicLong();
    final Map<String, AtomicInteger> perBackend = new ConcurrentHashMap<>();

    /** Streaming starts when every connection has its 101, so all stream at once. */
    volatile boolean go;

    Run(Options o) {
      this.o = o;
      String path =
          o.uri.getRawPath() == null || o.uri.getRawPath().isEmpty() ? "/" : o.uri.getRawPath();
      String host = o.uri.getHost() + (o.uri.getPort() > 0 ? ":" + o.uri.getPort() : "");
      this.request =
          ("GET "
                  + path
                  + " HTTP/1.1\r\nHost: "
                  + host
                  + "\r\nUpgrade: websocket\r\n"
                  + "Connection: Upgrade\r\nSec-WebSocket-Key: "
                  + WsWire.KEY
                  + "\r\n"
                  + "Sec-WebSocket-Version: 13\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII);
      this.filler = new byte[o.size];
      Arrays.fill(filler, (byte) 'x');
      this.inFlight = new Semaphore(o.concurrency);
      this.handshook = new CountDownLatch(o.connections);
      this.finished = new CountDownLatch(o.connections);
      this.handshakeNanos = new long[o.connections];
      this.rttNanos = o.stream ? new long[0] : new long[o.connections * o.messages];
    }
  }

  private LoadGenerator() {}

  /**
   * Runs the load described by {@code o} and returns the report.
   *
   * @throws InterruptedException if interrupted while waiting for the run
   */
  public static Report run(Options o) throws InterruptedException {
    EventLoopGroup group = WsWire.group(o.threads);
    int port = o.uri.getPort() > 0 ? o.uri.getPort() : 80;
    InetSocketAddress remote = new InetSocketAddress(o.uri.getHost(), port);
    Run run = new Run(o);
    List<Channel> channels = new ArrayList<>();
    List<Conn> conns = new ArrayList<>();
    long cpu0 = cpuNanos();
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(o.timeoutSeconds);
    try {
      Bootstrap b =
          new Bootstrap()
              .group(group)
              .channel(WsWire.socketChannel())
              .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
              .option(ChannelOption.TCP_NODELAY, true);
      for (int i = 0; i < o.connections; i++) {
        if (!run.inFlight.tryAcquire(
            Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
          break;
        }
        Conn conn = new Conn(run);
        conns.add(conn);
        InetSocketAddress local =
            new InetSocketAddress("127.0.0." + (2 + i % o.sourceAddresses), 0);
        conn.started = System.nanoTime();
        ChannelFuture f =
            b.clone()
                .handler(
                    new ChannelInitializer<Channel>() {
                      @Override
                      protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(conn);
                      }
                    })
                .connect(remote, local);
        channels.add(f.channel());
        f.addListener(
            cf -> {
              if (!cf.isSuccess()) {
                conn.finish(false);
              }
            });
      }
      long streamStart = 0;
      if (o.stream) {
        // Every connection (or its failure) first: the streaming phase is timed on its own.
        run.handshook.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        streamStart = System.nanoTime();
        run.go = true;
        for (Conn c : conns) {
          c.startStreaming();
        }
      }
      boolean done =
          run.finished.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      long end = System.nanoTime();
      double cpuSeconds = (cpuNanos() - cpu0) / 1e9;
      int stillOpen = 0;
      if (o.idleSeconds > 0) {
        Thread.sleep(TimeUnit.SECONDS.toMillis(o.idleSeconds));
        for (Channel c : channels) {
          if (c.isActive()) {
            stillOpen++;
          }
        }
      }
      int errors = run.errors.get();
      if (!done) {
        errors += (int) run.finished.getCount();
      }
      double seconds;
      if (o.stream) {
        seconds = Math.max(0, run.lastEcho.get() - streamStart) / 1e9;
      } else {
        seconds = (end - start) / 1e9;
      }
      double handshakeSeconds = Math.max(1, run.lastHandshake.get() - start) / 1e9;
      Map<String, Integer> spread = new TreeMap<>();
      run.perBackend.forEach((k, v) -> spread.put(k, v.get()));
      int hs = Math.min(run.handshakes.get(), run.handshakeNanos.length);
      int rt = Math.min(run.rttCount.get(), run.rttNanos.length);
      return new Report(
          o,
          run.handshakes.get(),
          run.echoed.get(),
          run.echoedBytes.get(),
          errors,
          stillOpen,
          handshakeSeconds,
          seconds,
          cpuSeconds,
          Arrays.copyOf(run.handshakeNanos, hs),
          Arrays.copyOf(run.rttNanos, rt),
          spread);
    } finally {
      for (Channel c : channels) {
        c.close();
      }
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
    }
  }

  private static long cpuNanos() {
    java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      return sun.getProcessCpuTime();
    }
    return 0;
  }

  /** One client connection: upgrade, announcement, then echoes or a stream, then done. */
  private static final class Conn extends ByteToMessageDecoder {
    private final Run run;
    volatile long started;
    private @Nullable ChannelHandlerContext ctx; // set in handlerAdded
    private boolean permitReleased;
    private boolean handshakeCounted;
    private boolean finishedOnce;
    private boolean upgraded;
    private boolean announced;
    private boolean ready;
    private boolean streaming;
    private int sent;
    private int received;
    private long messageBytes;
    private long sentAt;

    Conn(Run run) {
      this.run = run;
    }

    private synchronized void release() {
      if (!permitReleased) {
        permitReleased = true;
        run.inFlight.release();
      }
      if (!handshakeCounted) {
        handshakeCounted = true;
        run.handshook.countDown();
      }
    }

    synchronized void finish(boolean ok) {
      if (!finishedOnce) {
        finishedOnce = true;
        if (!ok) {
          run.errors.incrementAndGet();
        }
        run.finished.countDown();
      }
      release();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
      ctx.writeAndFlush(ctx.alloc().buffer(run.request.length).writeBytes(run.request));
      super.channelActive(ctx);
    }

    /** Called once every connection has its 101 (stream mode). */
    void startStreaming() {
      ChannelHandlerContext c = ctx;
      if (c != null) {
        c.executor().execute(() -> maybeStream(c));
      }
    }

    private void maybeStream(ChannelHandlerContext ctx) {
      if (streaming || !ready || !run.go || finishedOnce || !ctx.channel().isActive()) {
        return;
      }
      streaming = true;
      run.firstSend.accumulateAndGet(System.nanoTime(), Math::min);
      while (sent < run.o.messages && sent - received < run.o.window) {
        send(ctx);
      }
      ctx.flush();
      if (run.o.messages == 0) {
        finish(true);
      }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      if (finishedOnce && run.o.idleSeconds <= 0) {
        in.skipBytes(in.readableBytes());
        return;
      }
      if (!upgraded) {
        int end = WsWire.headEnd(in);
        if (end < 0) {
          if (in.readableBytes() > WsWire.MAX_HEAD) {
            error(ctx, in);
          }
          return;
        }
        String head = in.toString(in.readerIndex(), end - in.readerIndex(), StandardCharsets.UTF_8);
        in.readerIndex(end);
        if (!head.startsWith("HTTP/1.1 101")
            || !WsWire.ACCEPT.equals(WsWire.header(head, "Sec-WebSocket-Accept"))) {
          error(ctx, in);
          return;
        }
        upgraded = true;
        long now = System.nanoTime();
        int slot = run.handshakes.getAndIncrement();
        if (slot < run.handshakeNanos.length) {
          run.handshakeNanos[slot] = now - started;
        }
        run.lastHandshake.accumulateAndGet(now, Math::max);
        release();
      }
      while (true) {
        WsWire.Header h = WsWire.peekHeader(in);
        if (h == null || in.readableBytes() < h.size + h.length) {
          return;
        }
        int len = (int) h.length;
        int payloadAt = in.readerIndex() + h.size;
        if (h.masked || h.opcode == WsWire.OP_CLOSE) {
          error(ctx, in); // servers never mask; the benchmark's backends never close first
          return;
        }
        if (!announced) {
          announced = true;
          String text = in.toString(payloadAt, len, StandardCharsets.UTF_8);
          String backend = text.startsWith("backend:") ? text.substring(8) : "(unannounced)";
          run.perBackend.computeIfAbsent(backend, k -> new AtomicInteger()).incrementAndGet();
          in.skipBytes(h.size + len);
          ready = true;
          if (run.o.stream) {
            maybeStream(ctx);
          } else {
            sendNext(ctx);
          }
          continue;
        }
        if (h.opcode == WsWire.OP_PING || h.opcode == WsWire.OP_PONG) {
          in.skipBytes(h.size + len);
          continue;
        }
        if (messageBytes == 0 && (len < 8 || in.getLong(payloadAt) != received)) {
          error(ctx, in); // every echo must carry the next expected sequence number
          return;
        }
        messageBytes += len;
        in.skipBytes(h.size + len);
        if (!h.fin) {
          continue;
        }
        if (messageBytes != run.o.size) {
          error(ctx, in);
          return;
        }
        messageBytes = 0;
        received++;
        long now = System.nanoTime();
        run.echoed.incrementAndGet();
        run.echoedBytes.addAndGet(run.o.size);
        if (run.o.stream) {
          run.lastEcho.accumulateAndGet(now, Math::max);
          if (received == run.o.messages) {
            done(ctx);
            return;
          }
          if (sent < run.o.messages) {
            send(ctx);
          }
        } else {
          int slot = run.rttCount.getAndIncrement();
          if (slot < run.rttNanos.length) {
            run.rttNanos[slot] = now - sentAt;
          }
          sendNext(ctx);
        }
      }
    }

    private void send(ChannelHandlerContext ctx) {
      int size = run.o.size;
      ByteBuf frame = ctx.alloc().directBuffer(WsWire.headerSize(size, true) + size);
      WsWire.writeHeader(frame, WsWire.OP_BINARY, size, true);
      frame.writeLong(sent);
      frame.writeBytes(run.filler, 0, size - 8);
      sent++;
      ctx.write(frame, ctx.voidPromise());
    }

    private void sendNext(ChannelHandlerContext ctx) {
      if (sent >= run.o.messages) {
        done(ctx);
        return;
      }
      sentAt = System.nanoTime();
      send(ctx);
      ctx.flush();
    }

    private void done(ChannelHandlerContext ctx) {
      finish(true);
      if (run.o.idleSeconds <= 0) {
        ctx.close();
      }
    }

    private void error(ChannelHandlerContext ctx, ByteBuf in) {
      in.skipBytes(in.readableBytes());
      finish(false);
      ctx.close();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
      ctx.flush();
      super.channelReadComplete(ctx);
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
          "usage: LoadGenerator --uri ws://127.0.0.1:8080/ [--mode echo|stream]"
              + " [--connections 1000] [--concurrency 100] [--messages 100] [--size 64]"
              + " [--window 4] [--idle-seconds 0] [--source-addresses 200]"
              + " [--timeout-seconds 120] [--threads N]");
      System.exit(2);
      return;
    }
    Report r = run(o);
    System.out.println(r.toJson());
  }
}

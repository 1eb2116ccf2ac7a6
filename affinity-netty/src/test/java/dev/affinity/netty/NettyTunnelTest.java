package dev.affinity.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.testkit.Await;
import dev.affinity.testkit.EchoBackend;
import dev.affinity.testkit.Handshake;
import dev.affinity.testkit.RawConnection;
import dev.affinity.testkit.WsClient;
import dev.affinity.testkit.WsSession;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.handler.codec.http.HttpServerCodec;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The tunnel's Netty internals on real sockets: pipelines, back-pressure, outside closes. */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NettyTunnelTest {
  private EchoBackend echo;
  private BackendGroup group;
  private AffinityProxyServer server;
  private final BlockingQueue<Channel> clients = new LinkedBlockingQueue<>();

  @BeforeEach
  void start() throws InterruptedException {
    echo = EchoBackend.start("ws-1");
    group = BackendGroup.of(Backend.of("ws-1", "127.0.0.1", echo.port()));
    server = start(Router.builder(group).build(), false);
  }

  private AffinityProxyServer start(Router router, boolean proxyProtocol)
      throws InterruptedException {
    return AffinityProxyServer.builder(router)
        .host("127.0.0.1")
        .port(0)
        .ioThreads(1)
        .proxyProtocol(proxyProtocol)
        .config(AffinityProxyConfig.builder().trustedProxies("127.0.0.1/32").build())
        .pipeline(p -> clients.add(p.channel()))
        .build()
        .start();
  }

  @AfterEach
  void stop() {
    server.close();
    echo.close();
  }

  private Channel nextClientChannel() throws InterruptedException {
    Channel ch = clients.poll(30, TimeUnit.SECONDS);
    assertThat(ch).as("a client channel").isNotNull();
    return ch;
  }

  @Test
  void after101_bothPipelinesAreByteRelays_andAnOutsideCloseEndsBothLegs() throws Exception {
    try (WsClient jdk = WsClient.jdk();
        WsSession s = jdk.connect(Handshake.to(server.port(), "/"))) {
      s.nextText();
      Channel client = nextClientChannel();
      Tunnel c = client.attr(AffinityProxyHandler.TUNNEL).get();
      assertThat(c.isOpen()).isTrue();
      assertThat(c.backend().id()).isEqualTo("ws-1");
      Channel backend = c.backendChannel();
      assertThat(backend).isNotNull();
      client.eventLoop().submit(() -> {}).sync(); // pipelines settle on the loop
      assertThat(client.pipeline().names()).contains("affinity-relay", "affinity-idle");
      assertThat(client.pipeline().get(HttpServerCodec.class)).isNull();
      assertThat(client.pipeline().get(AffinityProxyHandler.class)).isNull();
      assertThat(backend.pipeline().names())
          .contains("affinity-relay", "affinity-idle")
          .doesNotContain("affinity-backend-codec", "affinity-backend-handshake");
      assertThat(group.liveConnections("ws-1")).isEqualTo(1);

      c.close(); // from the test thread, not the event loop
      assertThat(s.awaitClosed(Duration.ofSeconds(30))).isTrue();
      backend.closeFuture().await(30, TimeUnit.SECONDS);
      assertThat(backend.isOpen()).isFalse();
      await(() -> group.liveConnections("ws-1") == 0, "lease closed");
      c.close(); // idempotent
      c.abort();
    }
  }

  @Test
  void slowReader_leavesTheProxyClientLegUnwritable_withBoundedPendingBytes() throws Exception {
    try (RawConnection c = RawConnection.open(server.port(), 64 * 1024)) {
      c.send(RawConnection.upgradeRequest("/"));
      assertThat(c.readResponseHead().status()).isEqualTo(101);
      c.readFrame();
      Channel client = nextClientChannel();
      Channel backend = client.attr(AffinityProxyHandler.TUNNEL).get().backendChannel();
      c.sendText("flood:" + (256L << 20));
      await(() -> echo.floodStalledNanos() > TimeUnit.MILLISECONDS.toNanos(500), "flood stalls");
      long pending =
          client.eventLoop().submit(() -> pendingBytes(client)).get(30, TimeUnit.SECONDS);
      boolean writable = client.eventLoop().submit(client::isWritable).get();
      boolean backendReading = client.eventLoop().submit(() -> backend.config().isAutoRead()).get();
      assertThat(writable).as("client leg over its high water mark").isFalse();
      assertThat(backendReading).as("backend leg stopped reading").isFalse();
      // High water mark 64 KiB, plus at most one read of the backend leg before it stopped.
      assertThat(pending)
          .isBetween((long) AffinityProxyConfig.DEFAULT_HIGH_WATER_MARK, 256L * 1024);
    }
  }

  /**
   * A client that stops reading must not keep its proxy leg (and the bytes queued for it) after the
   * tunnel closes: the leg gets {@link LiveTunnel#CLOSE_LINGER_MILLIS} to flush, then closes.
   */
  @Test
  void slowReader_tunnelClosed_clientLegClosesAfterTheLinger_andReleasesItsQueue()
      throws Exception {
    try (RawConnection c = RawConnection.open(server.port(), 64 * 1024)) {
      c.send(RawConnection.upgradeRequest("/"));
      assertThat(c.readResponseHead().status()).isEqualTo(101);
      c.readFrame();
      Channel client = nextClientChannel();
      Tunnel connection = client.attr(AffinityProxyHandler.TUNNEL).get();
      c.sendText("flood:" + (256L << 20));
      await(() -> echo.floodStalledNanos() > TimeUnit.MILLISECONDS.toNanos(500), "flood stalls");
      assertThat(client.eventLoop().submit(client::isWritable).get()).isFalse();
      connection.close(); // the client still reads nothing
      assertThat(client.closeFuture().await(LiveTunnel.CLOSE_LINGER_MILLIS + 20_000))
          .as("client leg closed although its peer never read")
          .isTrue();
      assertThat(pendingBytes(client)).as("queued bytes released").isZero();
    }
  }

  private static long pendingBytes(Channel ch) {
    ChannelOutboundBuffer buf = ch.unsafe().outboundBuffer();
    return buf == null ? 0 : buf.totalPendingWriteBytes();
  }

  private static void await(BooleanSupplier condition, String what) {
    Await.until(what, Duration.ofSeconds(30), condition);
  }
}

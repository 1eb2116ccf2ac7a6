package dev.affinity.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.affinity.Router;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.testkit.EchoBackend;
import dev.affinity.testkit.Handshake;
import dev.affinity.testkit.WsClient;
import dev.affinity.testkit.WsSession;
import io.netty.channel.Channel;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Which transport {@link AffinityProxyServer} runs on. On Linux x86_64 the native epoll library
 * ships with the adapter, so the default server must run on epoll there: this test fails when the
 * native library did not load (a missing classifier, a wrong Netty version), instead of the server
 * quietly falling back to NIO.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NettyTransportTest {
  private static final Logger SERVER_LOG = Logger.getLogger(AffinityProxyServer.class.getName());

  private EchoBackend echo;
  private Router router;
  private final BlockingQueue<LogRecord> logged = new LinkedBlockingQueue<>();
  private final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord record) {
          logged.add(record);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  @BeforeEach
  void start() {
    echo = EchoBackend.start("ws-1");
    router = Router.builder(BackendGroup.of(Backend.of("ws-1", "127.0.0.1", echo.port()))).build();
    SERVER_LOG.addHandler(capture);
  }

  @AfterEach
  void stop() {
    SERVER_LOG.removeHandler(capture);
    echo.close();
  }

  private static boolean linuxX86_64() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    return os.startsWith("linux") && (arch.equals("amd64") || arch.equals("x86_64"));
  }

  private AffinityProxyServer.Builder builder() {
    return AffinityProxyServer.builder(router).host("127.0.0.1").port(0).ioThreads(1);
  }

  /** Echoes one message through {@code server} and returns the client channel's class name. */
  private static String relayOnce(AffinityProxyServer server, BlockingQueue<Channel> clients)
      throws InterruptedException {
    try (WsClient jdk = WsClient.jdk();
        WsSession s = jdk.connect(Handshake.to(server.port(), "/"))) {
      s.nextText(); // the backend's greeting
      s.sendText("over " + server.transport());
      assertThat(s.nextText()).isEqualTo("over " + server.transport());
    }
    Channel client = clients.poll(30, TimeUnit.SECONDS);
    assertThat(client).as("a client channel").isNotNull();
    Tunnel c = client.attr(AffinityProxyHandler.TUNNEL).get();
    Channel backend = c.backendChannel();
    assertThat(backend).as("the backend channel").isNotNull();
    assertThat(backend.eventLoop())
        .as("backend leg on the client's loop")
        .isSameAs(client.eventLoop());
    assertThat(backend.getClass().getPackageName()).isEqualTo(client.getClass().getPackageName());
    return client.getClass().getName();
  }

  private String startupLine() {
    return logged.stream()
        .filter(r -> r.getMessage().startsWith("affinity proxy listening on"))
        .map(r -> java.text.MessageFormat.format(r.getMessage(), r.getParameters()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no startup line in " + logged));
  }

  @Test
  void start_defaultOnLinuxX86_64_runsNativeEpollAndSaysSo() throws Exception {
    assumeThat(linuxX86_64()).as("the native library ships for Linux x86_64 only").isTrue();
    BlockingQueue<Channel> clients = new LinkedBlockingQueue<>();
    try (AffinityProxyServer server =
        builder().pipeline(p -> clients.add(p.channel())).build().start()) {
      assertThat(server.transport())
          .as("native epoll did not load: %s", Transports.epollUnavailability())
          .isEqualTo(NettyTransport.EPOLL);
      assertThat(relayOnce(server, clients)).startsWith("io.netty.channel.epoll.");
      assertThat(startupLine()).endsWith("(transport epoll)");
      assertThat(server.toString()).contains("epoll");
    }
  }

  @Test
  void start_ioUringRequested_runsIoUringWhereTheKernelAllows_elseSaysWhyItFellBack()
      throws Exception {
    BlockingQueue<Channel> clients = new LinkedBlockingQueue<>();
    try (AffinityProxyServer server =
        builder()
            .transport(NettyTransport.IO_URING)
            .pipeline(p -> clients.add(p.channel()))
            .build()
            .start()) {
      Throwable refused = Transports.ioUringUnavailability();
      String clientClass = relayOnce(server, clients);
      if (refused == null) {
        assertThat(server.transport()).isEqualTo(NettyTransport.IO_URING);
        assertThat(clientClass).startsWith("io.netty.channel.uring.");
        assertThat(startupLine()).endsWith("(transport io_uring)");
      } else {
        assertThat(server.transport()).isNotEqualTo(NettyTransport.IO_URING);
        assertThat(startupLine()).contains("io_uring unavailable: ");
      }
    }
  }

  @Test
  void start_nioRequested_runsNio() throws Exception {
    BlockingQueue<Channel> clients = new LinkedBlockingQueue<>();
    try (AffinityProxyServer server =
        builder()
            .transport(NettyTransport.NIO)
            .pipeline(p -> clients.add(p.channel()))
            .build()
            .start()) {
      assertThat(server.transport()).isEqualTo(NettyTransport.NIO);
      assertThat(relayOnce(server, clients)).startsWith("io.netty.channel.socket.nio.");
      assertThat(startupLine()).endsWith("(transport nio)");
    }
  }

  @Test
  void select_ioUringRefused_fallsBackToEpollAndNamesTheRootCause() {
    Throwable refused =
        new IllegalStateException("setup failed", new UnsupportedOperationException("seccomp"));
    Transports.Selection s = Transports.select(NettyTransport.IO_URING, refused, null);
    assertThat(s.transport).isEqualTo(NettyTransport.EPOLL);
    assertThat(s.describe())
        .isEqualTo("epoll (io_uring unavailable: UnsupportedOperationException: seccomp)");
  }

  @Test
  void select_noNativeLibrary_fallsBackToNioAndNamesEachCause() {
    Throwable noLib = new UnsatisfiedLinkError("no netty_transport_native_epoll_aarch_64");
    assertThat(Transports.select(NettyTransport.EPOLL, null, noLib).describe())
        .isEqualTo(
            "nio (epoll unavailable: UnsatisfiedLinkError: no"
                + " netty_transport_native_epoll_aarch_64)");
    assertThat(Transports.select(NettyTransport.IO_URING, noLib, noLib).describe())
        .startsWith("nio (io_uring unavailable: UnsatisfiedLinkError: ")
        .contains("; epoll unavailable: UnsatisfiedLinkError: ");
  }

  @Test
  void select_available_runsWhatWasRequestedWithoutAReason() {
    for (NettyTransport t : NettyTransport.values()) {
      Transports.Selection s = Transports.select(t, null, null);
      assertThat(s.transport).isEqualTo(t);
      assertThat(s.fallbackReason).isNull();
      assertThat(s.describe()).isEqualTo(t.displayName());
    }
  }
}

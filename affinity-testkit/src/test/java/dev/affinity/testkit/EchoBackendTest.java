package dev.affinity.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The test backends and clients against each other, without a proxy in between. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EchoBackendTest {
  @Test
  void bothClients_seeTheAnnouncement_andTheirEchoes() {
    try (EchoBackend b = EchoBackend.start("ws-1")) {
      for (WsClient c : new WsClient[] {WsClient.jdk(), WsClient.jetty()}) {
        try (c;
            WsSession s = c.connect(Handshake.to(b.port(), "/x"))) {
          assertThat(s.nextText()).isEqualTo("backend:ws-1");
          s.sendText("hello");
          assertThat(s.nextText()).isEqualTo("hello");
          s.sendBinary(new byte[] {1, 2, 3});
          assertThat(s.nextBinary()).containsExactly(1, 2, 3);
        }
      }
      assertThat(b.sessionsOpened()).isEqualTo(2);
    }
  }

  @Test
  void subprotocolAndDeflate_areNegotiated() {
    try (EchoBackend b = EchoBackend.builder("ws-1").subprotocols("echo.v1").start();
        WsClient c = WsClient.jetty();
        WsSession s =
            c.connect(
                Handshake.to(b.port(), "/")
                    .subprotocols("other", "echo.v1")
                    .extensions("permessage-deflate"))) {
      assertThat(s.subprotocol()).isEqualTo("echo.v1");
      assertThat(s.extensions()).containsExactly("permessage-deflate");
      assertThat(s.nextText()).isEqualTo("backend:ws-1");
      s.sendText("small");
      assertThat(s.nextText()).isEqualTo("small");
      s.sendText("y".repeat(5000));
      assertThat(s.nextText()).hasSize(5000);
      s.sendText("q".repeat(50_000));
      assertThat(s.nextText()).hasSize(50_000);
      s.sendText("z".repeat(100_000));
      assertThat(s.nextText()).hasSize(100_000);
    }
  }

  @Test
  void subprotocol_rawView() {
    try (EchoBackend b = EchoBackend.builder("ws-1").subprotocols("echo.v1").start();
        RawConnection c = RawConnection.open(b.port())) {
      c.send(RawConnection.upgradeRequest("/", "Sec-WebSocket-Protocol: other, echo.v1"));
      RawConnection.Response r = c.readResponseHead();
      assertThat(r.header("Sec-WebSocket-Protocol")).isEqualTo("echo.v1");
    }
  }

  @Test
  void statusPath_answersThatStatus_forBothClients() {
    try (EchoBackend b = EchoBackend.start("ws-1")) {
      for (WsClient c : new WsClient[] {WsClient.jdk(), WsClient.jetty()}) {
        try (c) {
          assertThatThrownBy(() -> c.connect(Handshake.to(b.port(), "/status/401")))
              .isInstanceOfSatisfying(
                  HandshakeFailedException.class, e -> assertThat(e.status()).isEqualTo(401));
        }
      }
    }
  }

  @Test
  void burst_sendsThe101AndTheFirstFrameTogether_andEchoes() {
    try (EchoBackend b = EchoBackend.start("ws-9");
        RawConnection c = RawConnection.open(b.port())) {
      c.send(RawConnection.upgradeRequest("/burst"));
      RawConnection.Response r = c.readResponseHead();
      assertThat(r.status()).isEqualTo(101);
      assertThat(r.header("Sec-WebSocket-Accept")).isEqualTo("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
      assertThat(c.readFrame().text()).isEqualTo("backend:ws-9");
      c.sendText("x");
      assertThat(c.readFrame().text()).isEqualTo("x");
    }
  }

  @Test
  void stopAndStart_keepThePort_andCloseOpenSessions() {
    try (EchoBackend b = EchoBackend.start("ws-1");
        WsClient c = WsClient.jdk()) {
      int port = b.port();
      WsSession s = c.connect(Handshake.to(port, "/"));
      s.nextText();
      b.stop();
      assertThat(s.awaitClosed(WsSession.DEFAULT_WAIT)).isTrue();
      assertThatThrownBy(() -> c.connect(Handshake.to(port, "/")))
          .isInstanceOf(HandshakeFailedException.class);
      b.start();
      assertThat(b.port()).isEqualTo(port);
      try (WsSession again = c.connect(Handshake.to(port, "/"))) {
        assertThat(again.nextText()).isEqualTo("backend:ws-1");
      }
    }
  }

  @Test
  @SuppressWarnings("try") // c: a connection made before the hang, held open and never read
  void hang_acceptsButNeverAnswers() {
    try (EchoBackend b = EchoBackend.start("ws-1");
        RawConnection c = RawConnection.open(b.port())) {
      b.hang(true);
      try (RawConnection hung = RawConnection.open(b.port())) {
        hung.readTimeout(java.time.Duration.ofMillis(300)).send(RawConnection.upgradeRequest("/"));
        assertThat(hung.awaitClosed()).as("still open, no answer").isFalse();
      }
    }
  }

  @Test
  void flood_stallsOnAClientThatDoesNotRead() throws InterruptedException {
    try (EchoBackend b = EchoBackend.start("ws-1");
        RawConnection c = RawConnection.open(b.port(), 64 * 1024)) {
      c.send(RawConnection.upgradeRequest("/"));
      assertThat(c.readResponseHead().status()).isEqualTo(101);
      c.readFrame();
      c.sendText("flood:" + (256L << 20));
      while (b.floodStalledNanos() < TimeUnit.MILLISECONDS.toNanos(500)) {
        Thread.sleep(20);
      }
      assertThat(b.floodBytesSent()).isBetween(1L, 32L << 20);
      assertThat(c.readFrame().opcode()).isEqualTo(2);
    }
  }
}

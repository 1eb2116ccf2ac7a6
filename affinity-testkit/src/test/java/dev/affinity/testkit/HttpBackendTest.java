package dev.affinity.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The HTTP test backend, spoken to directly: what the proxy scenarios rely on it to do. */
class HttpBackendTest {
  @Test
  void keepAlive_servesSequentialRequestsOnOneConnection_andCountsTheAccept() {
    try (HttpBackend b = HttpBackend.start("http-1");
        RawConnection c = RawConnection.open(b.port())) {
      for (int i = 0; i < 50; i++) {
        c.send("GET /n/" + i + " HTTP/1.1\r\nHost: x\r\n\r\n");
        RawConnection.Response r = c.readResponseHead();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("X-Backend")).isEqualTo("http-1");
        assertThat(new String(c.readBody(r, 100), StandardCharsets.UTF_8)).isEqualTo("http-1");
      }
      assertThat(b.accepted()).isEqualTo(1);
      assertThat(b.requests()).hasSize(50);
      assertThat(b.lastRequest().target()).isEqualTo("/n/49");
    }
  }

  @Test
  void echo_decodesAChunkedBody_andChunkedAnswersDecodeBack() {
    try (HttpBackend b = HttpBackend.start("http-1");
        RawConnection c = RawConnection.open(b.port())) {
      c.send(
          "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              + "3;a=b\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n");
      RawConnection.Response r = c.readResponseHead();
      assertThat(new String(c.readBody(r, 100), StandardCharsets.UTF_8)).isEqualTo("abcde");
      assertThat(b.lastRequest().header("transfer-encoding")).isEqualTo("chunked");
      c.send("GET /chunked?n=3&size=30 HTTP/1.1\r\nHost: x\r\n\r\n");
      r = c.readResponseHead();
      assertThat(r.header("Transfer-Encoding")).isEqualTo("chunked");
      byte[] body = c.readBody(r, 1000);
      assertThat(body).hasSize(90);
      assertThat(body[89]).isEqualTo((byte) ('a' + 89 % 26));
    }
  }

  @Test
  void sse_streamsNumberedEvents_andCountsTheBytesWritten() {
    try (HttpBackend b = HttpBackend.start("sse");
        RawConnection c = RawConnection.open(b.port())) {
      c.send("GET /sse?n=3 HTTP/1.1\r\nHost: x\r\n\r\n");
      RawConnection.Response r = c.readResponseHead();
      assertThat(r.header("Content-Type")).isEqualTo("text/event-stream");
      String body = new String(c.readBody(r, 1000), StandardCharsets.UTF_8);
      assertThat(body).isEqualTo("id: 0\ndata: 0\n\nid: 1\ndata: 1\n\nid: 2\ndata: 2\n\n");
      // per event: its chunk-size line "f\r\n", the 15-byte event, the chunk's CRLF
      assertThat(b.sseBytesWritten()).isEqualTo(3 * (3 + 15 + 2));
    }
  }

  @Test
  void connectionClose_endsTheConnectionAfterTheAnswer() {
    try (HttpBackend b = HttpBackend.start("http-1");
        RawConnection c = RawConnection.open(b.port())) {
      c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      RawConnection.Response r = c.readResponseHead();
      assertThat(r.header("Connection")).isEqualTo("close");
      c.readBody(r, 100);
      assertThat(c.awaitClosed()).isTrue();
    }
  }
}

package dev.affinity.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.testkit.RawConnection;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link BackendHandshake} against a {@link ScriptedBackend}, for the non-101 answers the shared
 * scenarios do not send: a body that stalls, and a body that ends with the backend's close.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BackendHandshakeTest {
  private ScriptedBackend backend;
  private AffinityProxyServer proxy;

  @BeforeEach
  void start() throws Exception {
    backend = new ScriptedBackend();
    // Short, so that a stalled body is relayed soon; nothing here measures it.
    proxy =
        backend.proxy(
            AffinityProxyConfig.builder().handshakeTimeout(Duration.ofMillis(300)).build());
  }

  @AfterEach
  void stop() throws IOException {
    proxy.close();
    backend.close();
  }

  private RawConnection client() {
    return RawConnection.open(proxy.port())
        .readTimeout(Duration.ofMillis(ScriptedBackend.READ_TIMEOUT_MILLIS))
        .send(RawConnection.upgradeRequest("/"));
  }

  @Test
  void errorAnswerWhoseBodyStalls_isRelayedWithWhatArrived_whenTheHandshakeTimeoutEnds()
      throws Exception {
    try (RawConnection client = client();
        Socket s = backend.acceptHandshake()) {
      ScriptedBackend.write(
          s,
          "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\nX-Backend: raw\r\n\r\n"
              + "0123456789"); // then silence: the other 90 bytes never come

      RawConnection.Response r = client.readResponseHead();
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.header("X-Backend")).isEqualTo("raw");
      assertThat(r.header("Content-Length")).isEqualTo("10");
      assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
      assertThat(new String(client.readToEnd(1000), StandardCharsets.ISO_8859_1))
          .isEqualTo("0123456789");
      assertThat(s.getInputStream().read()).as("the backend leg is closed").isEqualTo(-1);
    }
  }

  @Test
  void errorAnswerDelimitedByTheBackendsClose_isRelayedWhole_withAContentLength() throws Exception {
    try (RawConnection client = client()) {
      try (Socket s = backend.acceptHandshake()) {
        ScriptedBackend.write(
            s, "HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\nno such socket");
      } // the close ends the body

      RawConnection.Response r = client.readResponseHead();
      assertThat(r.status()).isEqualTo(404);
      assertThat(r.header("Content-Length")).isEqualTo("14");
      assertThat(new String(client.readToEnd(1000), StandardCharsets.ISO_8859_1))
          .isEqualTo("no such socket");
    }
  }
}

package dev.affinity.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.testkit.Await;
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
 * {@link LiveTunnel} against a {@link ScriptedBackend}, for the half close the shared scenarios
 * start only from the client side: here the backend ends its output first.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LiveTunnelTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private ScriptedBackend backend;
  private AffinityProxyServer proxy;

  @BeforeEach
  void start() throws Exception {
    backend = new ScriptedBackend();
    proxy = backend.proxy(AffinityProxyConfig.defaults());
  }

  @AfterEach
  void stop() throws IOException {
    proxy.close();
    backend.close();
  }

  @Test
  void backendHalfClose_reachesTheClientAsEndOfStream_laterClientFramesStillArrive_thenBothEnd()
      throws Exception {
    try (RawConnection client =
            RawConnection.open(proxy.port())
                .readTimeout(WAIT)
                .send(RawConnection.upgradeRequest("/"));
        Socket s = backend.acceptHandshake()) {
      ScriptedBackend.write(
          s,
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
      assertThat(client.readResponseHead().status()).isEqualTo(101);
      Await.until("the tunnel is listed", WAIT, () -> proxy.tunnels().size() == 1);

      s.getOutputStream().write(new byte[] {(byte) 0x81, 3, 'b', 'y', 'e'}); // text "bye"
      s.shutdownOutput();
      assertThat(client.readFrame().text()).isEqualTo("bye");
      assertThat(client.readToEnd(1000)).as("the backend's end of stream").isEmpty();
      assertThat(proxy.tunnels()).as("half closed, still open").hasSize(1);

      byte[] frame = RawConnection.maskedFrame(0x1, "late".getBytes(StandardCharsets.UTF_8));
      client.send(frame);
      assertThat(s.getInputStream().readNBytes(frame.length))
          .as("the client's frame after the backend's half close")
          .isEqualTo(frame);

      client.shutdownOutput();
      assertThat(s.getInputStream().read()).as("the client's end of stream").isEqualTo(-1);
      Await.until("the tunnel has ended", WAIT, () -> proxy.tunnels().isEmpty());
    }
  }
}

package dev.affinity.examples;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Graceful shutdown, as the SIGTERM hook runs it: no new handshakes, open tunnels may finish. */
class ProxyShutdownTest {
  private static final int WAIT_SECONDS = 30;

  @Test
  void close_refusesNewHandshakes_thenWaitsForTheOpenTunnel_thenStops() throws Exception {
    DemoLauncher demo = DemoLauncher.start("--shutdown-timeout", "120s");
    InetSocketAddress proxy = demo.proxyAddress();
    CompletableFuture<String> hello = new CompletableFuture<>();
    WebSocket ws =
        HttpClient.newHttpClient()
            .newWebSocketBuilder()
            .buildAsync(
                URI.create("ws://127.0.0.1:" + proxy.getPort() + "/demo"),
                new WebSocket.Listener() {
                  @Override
                  public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                    hello.complete(data.toString());
                    w.request(1); // and so on, up to the close frame
                    return null;
                  }
                })
            .get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(hello.get(WAIT_SECONDS, TimeUnit.SECONDS)).contains("\"type\":\"hello\"");

    CompletableFuture<Void> closing = CompletableFuture.runAsync(demo::close);
    String status = "";
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (!status.startsWith("HTTP/1.1 503") && System.nanoTime() < deadline) {
      status = handshakeStatus(proxy);
    }
    assertThat(status).as("a new handshake while stopping").startsWith("HTTP/1.1 503");
    assertThat(closing).as("still waiting for the open tunnel").isNotDone();

    ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(WAIT_SECONDS, TimeUnit.SECONDS);
    closing.get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(demo.output())
        .contains("affinity-proxy: stopping; waiting up to 120s for 1 open connection(s)")
        .contains("affinity-proxy: stopped");
  }

  private static String handshakeStatus(InetSocketAddress proxy) throws IOException {
    try (Socket s = new Socket("127.0.0.1", proxy.getPort())) {
      s.setSoTimeout(WAIT_SECONDS * 1000);
      s.getOutputStream()
          .write(
              ("GET /demo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                      + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      + "Sec-WebSocket-Version: 13\r\n\r\n")
                  .getBytes(US_ASCII));
      InputStream in = s.getInputStream();
      StringBuilder line = new StringBuilder();
      for (int b; (b = in.read()) >= 0 && b != '\n'; ) {
        line.append((char) b);
      }
      return line.toString();
    }
  }
}

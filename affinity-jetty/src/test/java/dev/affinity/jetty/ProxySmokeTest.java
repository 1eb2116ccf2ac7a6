package dev.affinity.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;

class ProxySmokeTest {
  @Test
  void proxy_echoesThroughTunnel() throws Exception {
    try (JettyEchoServer b1 = new JettyEchoServer("ws-1")) {
      Router router =
          Router.builder(BackendGroup.of(Backend.of("ws-1", "127.0.0.1", b1.port()))).build();
      Server server = new Server();
      ServerConnector c = new ServerConnector(server);
      c.setHost("127.0.0.1");
      server.addConnector(c);
      AffinityHandler h = AffinityHandler.builder(router).build();
      server.setHandler(h);
      server.start();
      try {
        LinkedBlockingQueue<String> got = new LinkedBlockingQueue<>();
        WebSocket ws =
            HttpClient.newHttpClient()
                .newWebSocketBuilder()
                .buildAsync(
                    URI.create("ws://127.0.0.1:" + c.getLocalPort() + "/x"),
                    new WebSocket.Listener() {
                      StringBuilder sb = new StringBuilder();

                      @Override
                      public CompletionStage<?> onText(WebSocket w, CharSequence d, boolean last) {
                        sb.append(d);
                        if (last) {
                          got.add(sb.toString());
                          sb = new StringBuilder();
                        }
                        w.request(1);
                        return CompletableFuture.completedFuture(null);
                      }
                    })
                .get(10, TimeUnit.SECONDS);
        assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("backend:ws-1");
        ws.sendText("hello", true).get(10, TimeUnit.SECONDS);
        assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("hello");
        assertThat(h.tunnels()).hasSize(1);
        assertThat(router.group().snapshot().member("ws-1").liveConnections()).isEqualTo(1);
        ws.sendClose(1000, "bye").get(10, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!h.tunnels().isEmpty() && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertThat(h.tunnels()).isEmpty();
        assertThat(router.group().snapshot().member("ws-1").liveConnections()).isEqualTo(0);
      } finally {
        server.stop();
      }
    }
  }
}

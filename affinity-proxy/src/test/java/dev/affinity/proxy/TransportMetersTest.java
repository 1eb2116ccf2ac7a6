package dev.affinity.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.testkit.EchoBackend;
import dev.affinity.testkit.Handshake;
import dev.affinity.testkit.WsClient;
import dev.affinity.testkit.WsSession;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} carries the adapter's transport meters where Micrometer has a binder: Jetty's
 * connections and thread pool on {@code --server jetty}, Netty's buffer allocator on Netty.
 */
class TransportMetersTest {
  private static final String TOKEN = "0123456789abcdef0123456789abcdef";

  @TempDir Path dir;

  private static String scrape(ProxyCommand.Running running) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://127.0.0.1:" + running.adminAddress().getPort() + "/metrics"))
                    .header("Authorization", "Bearer " + TOKEN)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  /** The sum of the samples whose name starts with {@code prefix} (units are appended). */
  private static double sum(List<PrometheusText.Sample> samples, String prefix) {
    return samples.stream()
        .filter(s -> s.name().startsWith(prefix))
        .mapToDouble(PrometheusText.Sample::value)
        .sum();
  }

  private ProxyCommand.Running start(String server, int backendPort) throws Exception {
    Path tokens = dir.resolve("admin.tokens");
    Files.writeString(tokens, "ops:" + TOKEN + "\n");
    ProxyCommand c = new ProxyCommand(Map.<String, String>of()::get);
    StringWriter out = new StringWriter();
    PrintWriter w = new PrintWriter(out, true);
    AffinityProxy.commandLine(c, w, w)
        .parseArgs(
            "--server",
            server,
            "--listen",
            "127.0.0.1:0",
            "--backend",
            "id=ws-1,uri=ws://127.0.0.1:" + backendPort,
            "--admin",
            "127.0.0.1:0",
            "--admin-token-file",
            tokens.toString(),
            "--shutdown-timeout",
            "1s");
    return c.start(w, w);
  }

  /**
   * Jetty's connection meters see the HTTP connection up to the upgrade (Jetty closes it when the
   * tunnel takes the socket over); the open tunnel itself is {@code affinity_connections_live}.
   */
  @Test
  void jetty_connectionAndThreadPoolMeters_countTheHandshake() throws Exception {
    try (EchoBackend ws1 = EchoBackend.start("ws-1");
        ProxyCommand.Running running = start("jetty", ws1.port());
        WsClient client = WsClient.jdk()) {
      List<PrometheusText.Sample> before = PrometheusText.parse(scrape(running));
      try (WsSession ws = client.connect(Handshake.to(running.proxyAddress().getPort(), "/"))) {
        assertThat(ws.nextText()).isEqualTo("backend:ws-1");
        List<PrometheusText.Sample> after = PrometheusText.parse(scrape(running));
        for (String meter :
            List.of(
                "jetty_connections_request_seconds_count",
                "jetty_connections_messages_in",
                "jetty_connections_messages_out")) {
          assertThat(sum(after, meter)).as(meter).isEqualTo(sum(before, meter) + 1);
        }
        assertThat(sum(after, "affinity_connections_live")).isEqualTo(1);
        assertThat(after)
            .anySatisfy(s -> assertThat(s.name()).isEqualTo("jetty_threads_busy"))
            .anySatisfy(s -> assertThat(s.name()).isEqualTo("jetty_threads_config_max"));
      }
    }
  }

  @Test
  void netty_allocatorMeters() throws Exception {
    try (EchoBackend ws1 = EchoBackend.start("ws-1");
        ProxyCommand.Running running = start("netty", ws1.port())) {
      assertThat(PrometheusText.parse(scrape(running)))
          .anySatisfy(s -> assertThat(s.name()).startsWith("netty_allocator_"))
          .noneSatisfy(s -> assertThat(s.name()).startsWith("jetty_"));
    }
  }
}

package dev.affinity.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.testkit.Await;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} of proxies running with {@code --redis} (a real redis-server) carries the
 * fleet's meters: instances and fingerprint agreement, degraded and its episodes once Redis is
 * killed, and a last-sync age that grows while degraded; with {@code --learn}, the learned store's.
 */
class FleetMetersTest {
  private static final String TOKEN = "0123456789abcdef0123456789abcdef";
  private static final Duration WAIT = Duration.ofSeconds(30);
  private final StringWriter out = new StringWriter();

  private ProxyCommand.Running start(Path dir, String redisUri, String id, String server)
      throws Exception {
    Path tokens = dir.resolve("admin.tokens");
    Files.writeString(tokens, "ops:" + TOKEN + "\n", UTF_8);
    Path key = dir.resolve("learn.key");
    Files.writeString(key, "0123456789abcdef-learn\n", UTF_8);
    ProxyCommand c = new ProxyCommand(Map.<String, String>of()::get);
    PrintWriter w = new PrintWriter(out, true);
    AffinityProxy.commandLine(c, w, w)
        .parseArgs(
            "--server", server,
            "--listen", "127.0.0.1:0",
            "--backend", "id=ws-1,uri=ws://127.0.0.1:9001",
            "--backend", "id=ws-2,uri=ws://127.0.0.1:9002",
            "--redis", redisUri,
            "--instance-id", id,
            "--learn", "cookie:SID",
            "--learn-key-file", key.toString(),
            "--admin", "127.0.0.1:0",
            "--admin-token-file", tokens.toString(),
            "--shutdown-timeout", "1s");
    return c.start(w, w);
  }

  private static List<PrometheusText.Sample> scrape(ProxyCommand.Running running) throws Exception {
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
    return PrometheusText.parse(r.body());
  }

  private static double value(ProxyCommand.Running running, String name) {
    OptionalDouble v;
    try {
      v =
          scrape(running).stream()
              .filter(s -> s.name().equals(name))
              .mapToDouble(PrometheusText.Sample::value)
              .findFirst();
    } catch (Exception e) {
      throw new AssertionError("scraping /metrics failed", e);
    }
    assertThat(v).as(name + " in /metrics").isPresent();
    return v.getAsDouble();
  }

  @Test
  void fleetMeters_showAgreement_thenDegradedAfterRedisIsKilled(@TempDir Path dir)
      throws Exception {
    try (LocalRedis redis = LocalRedis.start(dir);
        ProxyCommand.Running a = start(dir, redis.uri(), "a", "netty");
        ProxyCommand.Running b = start(dir, redis.uri(), "b", "jetty")) {
      for (ProxyCommand.Running p : List.of(a, b)) {
        Await.until(
            "both instances see each other and agree",
            WAIT,
            () ->
                value(p, "affinity_fleet_instances") == 2
                    && value(p, "affinity_fleet_instances_agreeing") == 2);
        assertThat(value(p, "affinity_fleet_agreement")).isEqualTo(1);
        assertThat(value(p, "affinity_fleet_degraded")).isZero();
        assertThat(value(p, "affinity_fleet_degraded_episodes_total")).isZero();
        assertThat(value(p, "affinity_fleet_last_sync_age_seconds")).isNotNegative();
        assertThat(value(p, "affinity_learned_learn_failures_total")).isZero();
        assertThat(value(p, "affinity_learned_lookup_failures_total")).isZero();
        assertThat(value(p, "affinity_learned_lookup_misses_total")).isNotNegative();
      }

      // A change through A's admin API: the applied state version reads 1 on both.
      HttpResponse<String> drained =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create(
                              "http://127.0.0.1:"
                                  + a.adminAddress().getPort()
                                  + "/backends/ws-2/drain"))
                      .header("Authorization", "Bearer " + TOKEN)
                      .POST(HttpRequest.BodyPublishers.ofString("{\"deadline\":\"5m\"}"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(drained.statusCode()).as(drained.body()).isEqualTo(200);
      for (ProxyCommand.Running p : List.of(a, b)) {
        Await.until(
            "state version 1 on each instance",
            WAIT,
            () -> value(p, "affinity_fleet_state_version") == 1);
      }

      redis.kill();
      for (ProxyCommand.Running p : List.of(a, b)) {
        Await.until("degraded reads 1", WAIT, () -> value(p, "affinity_fleet_degraded") == 1);
        assertThat(value(p, "affinity_fleet_degraded_episodes_total")).isEqualTo(1);
        double age = value(p, "affinity_fleet_last_sync_age_seconds");
        Await.until(
            "the last-sync age grows while Redis is gone",
            WAIT,
            () -> value(p, "affinity_fleet_last_sync_age_seconds") > age);
      }

      redis.restart();
      for (ProxyCommand.Running p : List.of(a, b)) {
        Await.until(
            "degraded reads 0 again after Redis came back",
            WAIT,
            () -> value(p, "affinity_fleet_degraded") == 0);
        assertThat(value(p, "affinity_fleet_degraded_episodes_total")).isEqualTo(1);
      }
    }
  }
}

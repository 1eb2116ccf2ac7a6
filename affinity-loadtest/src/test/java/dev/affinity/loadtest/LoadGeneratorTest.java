package dev.affinity.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class LoadGeneratorTest {
  @Test
  @Timeout(60)
  void run_directToEchoBackend_countsEveryRoundTrip() throws Exception {
    try (EchoServer backend = EchoServer.start("ws-1", 0, 1)) {
      LoadGenerator.Options o =
          LoadGenerator.Options.parse(
              "--uri", "ws://127.0.0.1:" + backend.port() + "/echo",
              "--connections", "50",
              "--concurrency", "10",
              "--messages", "20",
              "--size", "100",
              "--timeout-seconds", "30");
      LoadGenerator.Report r = LoadGenerator.run(o);
      assertThat(r.errors).isZero();
      assertThat(r.handshakes).isEqualTo(50);
      assertThat(r.messages).isEqualTo(50 * 20);
      assertThat(r.perBackend).containsExactly(java.util.Map.entry("ws-1", 50));
      assertThat(r.rttP99Ms).isGreaterThanOrEqualTo(r.rttP50Ms).isPositive();
      assertThat(r.toJson()).contains("\"errors\":0").contains("\"perBackend\":{\"ws-1\":50}");
    }
  }

  @Test
  @Timeout(60)
  void run_streamMode_echoesEveryMessageAndCountsTheBytes() throws Exception {
    try (EchoServer ws1 = EchoServer.start("ws-1", 0, 1)) {
      LoadGenerator.Report r =
          LoadGenerator.run(
              LoadGenerator.Options.parse(
                  "--uri", "ws://127.0.0.1:" + ws1.port() + "/",
                  "--mode", "stream",
                  "--connections", "10",
                  "--messages", "30",
                  "--size", "16384",
                  "--window", "4",
                  "--timeout-seconds", "30"));
      assertThat(r.errors).isZero();
      assertThat(r.mode).isEqualTo("stream");
      assertThat(r.messages).isEqualTo(10 * 30);
      assertThat(r.payloadBytes).isEqualTo(10L * 30 * 16384);
      assertThat(r.megabytesPerSecond).isPositive();
      assertThat(r.toJson()).contains("\"mode\":\"stream\"").contains("\"payloadBytes\":4915200");
    }
  }

  @Test
  @Timeout(60)
  void run_backendAnswersWrongEcho_countsAnError() throws Exception {
    // A plain HTTP server that never upgrades: every connection is an error, none hangs.
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Thread t =
          new Thread(
              () -> {
                for (int i = 0; i < 3; i++) {
                  try (java.net.Socket c = s.accept()) {
                    c.getOutputStream()
                        .write(
                            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                  } catch (java.io.IOException e) {
                    return;
                  }
                }
              });
      t.start();
      LoadGenerator.Report r =
          LoadGenerator.run(
              LoadGenerator.Options.parse(
                  "--uri", "ws://127.0.0.1:" + s.getLocalPort() + "/",
                  "--connections", "3",
                  "--concurrency", "1",
                  "--timeout-seconds", "20"));
      t.join();
      assertThat(r.errors).isEqualTo(3);
      assertThat(r.handshakes).isZero();
    }
  }

  @Test
  @Timeout(60)
  void run_noServer_reportsErrorsInsteadOfHanging() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    LoadGenerator.Report r =
        LoadGenerator.run(
            LoadGenerator.Options.parse(
                "--uri",
                "ws://127.0.0.1:" + port + "/",
                "--connections",
                "5",
                "--timeout-seconds",
                "10"));
    assertThat(r.errors).isEqualTo(5);
    assertThat(r.handshakes).isZero();
  }

  @Test
  void options_rejectUnknownAndBadFlagsByName() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> LoadGenerator.Options.parse("--conections", "5"))
        .hasMessage("--conections: unknown flag");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> LoadGenerator.Options.parse("--connections", "0"))
        .hasMessage("--connections: 0 (expected: > 0)");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> LoadGenerator.Options.parse("--mode", "flood"))
        .hasMessage("--mode: flood (expected: echo, stream)");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> LoadGenerator.Options.parse("--size", "4"))
        .hasMessage("--size: 4 (expected: 8..16777216)");
  }
}

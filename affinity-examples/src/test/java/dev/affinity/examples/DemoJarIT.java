package dev.affinity.examples;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jar that the README's first command builds and starts ({@code java -jar
 * affinity-examples/target/affinity-examples.jar}), run as a separate process after {@code
 * package}: the demo answers on the page and through the proxy, SIGTERM stops it gracefully, and
 * {@code --help} and a bad flag behave.
 */
class DemoJarIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final Pattern PROXY = Pattern.compile("proxy listening on (ws://\\S+)");
  private static final Pattern PAGE = Pattern.compile("demo page (http://\\S+)");

  private static Path jar() {
    Path jar = Path.of(System.getProperty("affinity.examplesJar", "target/affinity-examples.jar"));
    assertThat(jar).as("the README's jar").exists();
    return jar;
  }

  /**
   * Starts the jar with its output in {@code log}: a file, because {@link Process#destroy()} closes
   * the pipes before the shutdown hook's last lines could be read.
   */
  private static Process java(Path log, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-jar");
    command.add(jar().toString());
    command.addAll(List.of(args));
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  /** Waits until the output shows a line matching {@code pattern}; returns its first group. */
  private static String await(Path log, Pattern pattern) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      Matcher m = pattern.matcher(Files.readString(log, UTF_8));
      if (m.find()) {
        return m.groupCount() > 0 ? m.group(1) : m.group();
      }
      Thread.sleep(50);
    }
    throw new AssertionError(
        "no line matching " + pattern + " within " + WAIT + "; output:\n" + Files.readString(log));
  }

  @Test
  void jar_withoutFlags_runsTheDemo_answers_andStopsGracefullyOnSigterm(@TempDir Path tmp)
      throws Exception {
    Path log = tmp.resolve("demo.log");
    Process p = java(log, "--listen", "127.0.0.1:0", "--demo-page", "127.0.0.1:0");
    try {
      URI proxy = URI.create(await(log, PROXY));
      String page = await(log, PAGE);

      HttpClient http = HttpClient.newBuilder().connectTimeout(WAIT).build();
      HttpResponse<String> html =
          http.send(
              HttpRequest.newBuilder(URI.create(page)).timeout(WAIT).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(html.statusCode()).isEqualTo(200);
      assertThat(html.body()).contains("affinity demo");

      // A WebSocket handshake through the proxy: 101 from a demo backend, plus the cookie.
      try (Socket s = new Socket(proxy.getHost(), proxy.getPort())) {
        s.setSoTimeout((int) WAIT.toMillis());
        s.getOutputStream()
            .write(
                ("GET /demo HTTP/1.1\r\n"
                        + "Host: "
                        + proxy.getHost()
                        + ":"
                        + proxy.getPort()
                        + "\r\n"
                        + "Upgrade: websocket\r\n"
                        + "Connection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        + "Sec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(US_ASCII));
        String head = readHead(s.getInputStream());
        assertThat(head).startsWith("HTTP/1.1 101");
        assertThat(head).containsIgnoringCase("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assertThat(head).containsIgnoringCase("Set-Cookie: AFFINITY=");
      }
    } finally {
      p.destroy(); // SIGTERM: the shutdown hook stops the proxy, backends and page
      boolean exited = p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS);
      if (!exited) {
        p.destroyForcibly();
      }
      assertThat(exited)
          .as("exited within %s after SIGTERM; output:\n%s", WAIT, Files.readString(log))
          .isTrue();
    }
    assertThat(p.exitValue()).as("128 + SIGTERM").isEqualTo(143);
    String output = Files.readString(log, UTF_8);
    assertThat(output).contains("affinity-proxy: stopping", "affinity-proxy: stopped");
    assertThat(output.indexOf("affinity-proxy: stopped"))
        .isGreaterThan(output.indexOf("affinity-proxy: stopping"));
  }

  private static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.append((char) b);
    }
    return head.toString();
  }

  @Test
  void jar_help_printsTheFlags_andABadFlagExitsWithTwoNamingIt(@TempDir Path tmp) throws Exception {
    Process help = java(tmp.resolve("help.log"), "--help");
    assertThat(help.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    String usage = Files.readString(tmp.resolve("help.log"), UTF_8);
    assertThat(help.exitValue()).isZero();
    assertThat(usage).contains("Usage: affinity-proxy", "--backend", "--strategy", "--server");

    Process bad = java(tmp.resolve("bad.log"), "--backend", "id=ws-1,uri=http://10.0.0.1:80");
    assertThat(bad.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    String error = Files.readString(tmp.resolve("bad.log"), UTF_8);
    assertThat(bad.exitValue()).isEqualTo(2);
    assertThat(error).contains("--backend").contains("ws://HOST:PORT");
  }
}

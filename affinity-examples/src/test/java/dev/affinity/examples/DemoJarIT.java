package dev.affinity.examples;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

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

  private static Process java(String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-jar");
    command.add(jar().toString());
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectErrorStream(true).start();
  }

  /** Collects a process's output lines on a daemon thread. */
  private static BlockingQueue<String> lines(Process p, StringBuilder all) {
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread t =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(new InputStreamReader(p.getInputStream(), UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                  synchronized (all) {
                    all.append(line).append('\n');
                  }
                  lines.add(line);
                }
              } catch (IOException e) {
                // the process ended
              }
            },
            "demo-jar-output");
    t.setDaemon(true);
    t.start();
    return lines;
  }

  private static String await(BlockingQueue<String> lines, Pattern pattern, StringBuilder all)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      String line = lines.poll(1, TimeUnit.SECONDS);
      if (line != null) {
        Matcher m = pattern.matcher(line);
        if (m.find()) {
          return m.group(1);
        }
      }
    }
    throw new AssertionError(
        "no line matching " + pattern + " within " + WAIT + "; output:\n" + all);
  }

  @Test
  void jar_withoutFlags_runsTheDemo_answers_andStopsGracefullyOnSigterm() throws Exception {
    Process p = java("--listen", "127.0.0.1:0", "--demo-page", "127.0.0.1:0");
    StringBuilder all = new StringBuilder();
    try {
      BlockingQueue<String> lines = lines(p, all);
      URI proxy = URI.create(await(lines, PROXY, all));
      String page = await(lines, PAGE, all);

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
      assertThat(exited).as("exited within %s after SIGTERM; output:\n%s", WAIT, all).isTrue();
    }
    assertThat(p.exitValue()).isEqualTo(143);
    // The output thread may still be draining the last lines.
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!all.toString().contains("affinity-proxy: stopped") && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(all.toString()).contains("affinity-proxy: stopping", "affinity-proxy: stopped");
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
  void jar_help_printsTheFlags_andABadFlagExitsWithTwoNamingIt() throws Exception {
    Process help = java("--help");
    String usage = new String(help.getInputStream().readAllBytes(), UTF_8);
    assertThat(help.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(help.exitValue()).isZero();
    assertThat(usage).contains("Usage: affinity-proxy", "--backend", "--strategy", "--server");

    Process bad = java("--backend", "id=ws-1,uri=http://10.0.0.1:80");
    String error = new String(bad.getInputStream().readAllBytes(), UTF_8);
    assertThat(bad.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(bad.exitValue()).isEqualTo(2);
    assertThat(error).contains("--backend").contains("ws://HOST:PORT");
  }
}

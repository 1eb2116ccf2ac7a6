package dev.affinity.testkit;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;

/**
 * Debian's Chromium, headless, driven over the Chrome DevTools Protocol with the JDK's own HTTP and
 * WebSocket clients: no browser download, no driver, no Node.js.
 *
 * <p>It starts Chromium with {@code --remote-debugging-port=0} and a fresh profile, reads the port
 * Chromium picked from {@code DevToolsActivePort} in that profile, attaches to the first page
 * target and sends {@code Page.navigate}, {@code Runtime.evaluate} and {@code
 * Page.captureScreenshot} commands. Every wait is bounded.
 *
 * <pre>{@code
 * Path chromium = HeadlessChromium.findOrSkip();
 * try (HeadlessChromium browser = HeadlessChromium.launch(chromium, tmp, 1100, 980)) {
 *   browser.navigate("http://127.0.0.1:" + port + "/");
 *   browser.waitFor("document.title === 'ready'", Duration.ofSeconds(20), "document.title");
 * }
 * }</pre>
 */
public final class HeadlessChromium implements AutoCloseable {
  /** The flags Chromium needs here: no sandbox (root in CI), no GPU, no network chatter. */
  static final List<String> FLAGS =
      List.of(
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--disable-extensions",
          "--remote-debugging-address=127.0.0.1",
          "--remote-debugging-port=0");

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

  private final Process process;
  private final Path profile;
  private final WebSocket socket;
  private final Map<Long, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();

  private HeadlessChromium(Process process, Path profile, WebSocket socket) {
    this.process = process;
    this.profile = profile;
    this.socket = socket;
  }

  /**
   * The Chromium executable: {@code $AFFINITY_CHROMIUM}, else the first of {@code
   * /usr/bin/chromium}, {@code /usr/bin/chromium-browser}, {@code /usr/bin/google-chrome} that
   * exists.
   */
  public static Optional<Path> find() {
    String configured = System.getenv("AFFINITY_CHROMIUM");
    Stream<String> candidates =
        configured != null && !configured.isBlank()
            ? Stream.of(configured)
            : Stream.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome");
    return candidates.map(Path::of).filter(Files::isExecutable).findFirst();
  }

  /**
   * The Chromium executable ({@link #find()}); without one the calling test is skipped, unless
   * {@code AFFINITY_REQUIRE_BROWSER=1} (set by {@code .ci/run}), which makes a missing browser a
   * failure.
   *
   * @throws org.opentest4j.TestAbortedException (a skip) if there is none and none is required
   * @throws AssertionError if there is none and {@code AFFINITY_REQUIRE_BROWSER=1}
   */
  public static Path findOrSkip() {
    Optional<Path> chromium = find();
    if (chromium.isEmpty()) {
      if ("1".equals(System.getenv("AFFINITY_REQUIRE_BROWSER"))) {
        throw new AssertionError(
            "AFFINITY_REQUIRE_BROWSER=1 but no Chromium at /usr/bin/chromium (or"
                + " $AFFINITY_CHROMIUM): install Debian's chromium package");
      }
      Assumptions.abort("no Chromium installed; set AFFINITY_REQUIRE_BROWSER=1 to fail instead");
    }
    return chromium.get();
  }

  /**
   * Starts Chromium with a fresh profile under {@code workDir} and a {@code width × height} window,
   * and attaches to its page.
   *
   * @throws IOException if it cannot start or does not open its DevTools port within 30 seconds
   */
  public static HeadlessChromium launch(Path executable, Path workDir, int width, int height)
      throws IOException, InterruptedException {
    Path profile = Files.createTempDirectory(workDir, "chromium-profile-");
    List<String> command = new ArrayList<>();
    command.add(executable.toString());
    command.addAll(FLAGS);
    command.add("--user-data-dir=" + profile);
    command.add("--window-size=" + width + "," + height);
    command.add("about:blank");
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(profile.resolveSibling(profile.getFileName() + ".log").toFile())
            .start();
    try {
      int port = devToolsPort(process, profile, Duration.ofSeconds(30));
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
      String pageUrl = pageTarget(http, port);
      Listener listener = new Listener();
      WebSocket ws =
          http.newWebSocketBuilder()
              .connectTimeout(Duration.ofSeconds(10))
              .buildAsync(URI.create(pageUrl), listener)
              .get(30, TimeUnit.SECONDS);
      HeadlessChromium browser = new HeadlessChromium(process, profile, ws);
      listener.browser = browser;
      ObjectNode metrics = JSON.createObjectNode();
      metrics.put("width", width);
      metrics.put("height", height);
      metrics.put("deviceScaleFactor", 1);
      metrics.put("mobile", false);
      browser.send("Emulation.setDeviceMetricsOverride", metrics);
      browser.send("Page.enable", JSON.createObjectNode());
      return browser;
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      process.destroyForcibly();
      throw new IOException("chromium did not start: " + e, e);
    }
  }

  private static int devToolsPort(Process process, Path profile, Duration timeout)
      throws IOException, InterruptedException {
    Path file = profile.resolve("DevToolsActivePort");
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IOException("chromium exited with status " + process.exitValue());
      }
      if (Files.exists(file)) {
        List<String> lines = Files.readAllLines(file);
        if (!lines.isEmpty() && !lines.get(0).isBlank()) {
          return Integer.parseInt(lines.get(0).trim());
        }
      }
      Thread.sleep(50);
    }
    throw new IOException("no DevToolsActivePort in " + profile + " after " + timeout);
  }

  private static String pageTarget(HttpClient http, int port)
      throws IOException, InterruptedException {
    HttpRequest list =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
            .timeout(Duration.ofSeconds(10))
            .build();
    for (int attempt = 0; attempt < 100; attempt++) {
      JsonNode targets =
          JSON.readTree(http.send(list, HttpResponse.BodyHandlers.ofString()).body());
      for (JsonNode t : targets) {
        if ("page".equals(t.path("type").asText()) && t.has("webSocketDebuggerUrl")) {
          return t.get("webSocketDebuggerUrl").asText();
        }
      }
      Thread.sleep(50);
    }
    throw new IOException("chromium shows no page target");
  }

  /**
   * Sends a DevTools command and returns its result.
   *
   * @throws IllegalStateException if Chromium answers with an error or not within 30 seconds
   */
  public JsonNode send(String method, ObjectNode params) {
    long id = ids.incrementAndGet();
    ObjectNode message = JSON.createObjectNode();
    message.put("id", id);
    message.put("method", method);
    message.set("params", params);
    CompletableFuture<JsonNode> answer = new CompletableFuture<>();
    pending.put(id, answer);
    try {
      synchronized (socket) {
        socket.sendText(JSON.writeValueAsString(message), true).get(10, TimeUnit.SECONDS);
      }
      JsonNode reply = answer.get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      if (reply.has("error")) {
        throw new IllegalStateException(method + " failed: " + reply.get("error"));
      }
      return reply.path("result");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(method + " interrupted", e);
    } catch (ExecutionException | TimeoutException | IOException e) {
      throw new IllegalStateException(method + " got no answer: " + e, e);
    } finally {
      pending.remove(id);
    }
  }

  /** Opens {@code url} in the page. */
  public void navigate(String url) {
    ObjectNode params = JSON.createObjectNode();
    params.put("url", requireNonNull(url, "url"));
    JsonNode result = send("Page.navigate", params);
    if (result.hasNonNull("errorText")) {
      throw new IllegalStateException("navigate " + url + ": " + result.get("errorText").asText());
    }
  }

  /**
   * Evaluates a JavaScript expression in the page (awaiting a promise) and returns its value as
   * JSON.
   *
   * @throws IllegalStateException if the script throws
   */
  public JsonNode evaluate(String expression) {
    ObjectNode params = JSON.createObjectNode();
    params.put("expression", expression);
    params.put("returnByValue", true);
    params.put("awaitPromise", true);
    JsonNode result = send("Runtime.evaluate", params);
    if (result.has("exceptionDetails")) {
      throw new IllegalStateException(
          "script failed: " + expression + ": " + result.get("exceptionDetails"));
    }
    return result.path("result").path("value");
  }

  /**
   * Evaluates {@code condition} until it is true.
   *
   * @throws AssertionError naming the condition and the page's last state if it stays false for
   *     {@code timeout}
   */
  public void waitFor(String condition, Duration timeout, String pageState) {
    Instant deadline = Instant.now().plus(timeout);
    while (true) {
      if (evaluate("Boolean(" + condition + ")").asBoolean(false)) {
        return;
      }
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError(
            "still false after " + timeout + ": " + condition + "; page: " + evaluate(pageState));
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for " + condition, e);
      }
    }
  }

  /** A PNG of the page's viewport. */
  public byte[] screenshot() {
    ObjectNode params = JSON.createObjectNode();
    params.put("format", "png");
    return Base64.getDecoder().decode(send("Page.captureScreenshot", params).get("data").asText());
  }

  /** Closes the DevTools connection, stops Chromium and deletes its profile. */
  @Override
  public void close() {
    socket.abort();
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    try (Stream<Path> files = Files.walk(profile)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void received(String text) {
    JsonNode message;
    try {
      message = JSON.readTree(text);
    } catch (IOException e) {
      return;
    }
    if (message.has("id")) {
      CompletableFuture<JsonNode> f = pending.get(message.get("id").asLong());
      if (f != null) {
        f.complete(message);
      }
    }
  }

  /** Collects text frames (DevTools messages may come in parts) and hands whole ones on. */
  private static final class Listener implements WebSocket.Listener {
    private final StringBuilder buffer = new StringBuilder();
    volatile @Nullable HeadlessChromium browser;

    @Override
    public @Nullable CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      buffer.append(data);
      if (last) {
        String text = buffer.toString();
        buffer.setLength(0);
        HeadlessChromium b = browser;
        if (b != null) {
          b.received(text);
        }
      }
      ws.request(1);
      return null;
    }
  }
}

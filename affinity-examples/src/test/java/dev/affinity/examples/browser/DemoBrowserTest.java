package dev.affinity.examples.browser;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.affinity.examples.DemoLauncher;
import dev.affinity.testkit.HeadlessChromium;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The demo in a real browser: headless Debian Chromium, driven over the DevTools protocol, against
 * the demo started through the same entry point as {@code java -jar affinity-examples.jar}, on
 * 127.0.0.1. Every assertion reads the page's DOM.
 *
 * <p>Without Chromium the test is skipped, unless {@code AFFINITY_REQUIRE_BROWSER=1} (set by {@code
 * .ci/run}), which makes a missing browser a failure.
 */
class DemoBrowserTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  /** What the page shows, for assertions and for failure messages. */
  private static final String PAGE_STATE =
      "JSON.stringify({"
          + "status: document.getElementById('status').textContent,"
          + "backend: document.getElementById('backend').textContent,"
          + "cookie: document.getElementById('cookie').textContent,"
          + "cookieSeen: document.getElementById('cookie-seen').textContent,"
          + "change: document.getElementById('cookie-change').textContent,"
          + "current: Array.from(document.querySelectorAll('.backend.current')).map(c => c.dataset.id),"
          + "cards: Array.from(document.querySelectorAll('.backend')).map(c => ({id: c.dataset.id,"
          + "  running: c.querySelector('.running').textContent,"
          + "  state: c.querySelector('.state').textContent})),"
          + "rows: Array.from(document.querySelectorAll('#log tbody tr')).map(r => ({"
          + "  backend: r.dataset.backend, cookie: r.dataset.cookie, change: r.dataset.change}))"
          + "})";

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  private static JsonNode state(HeadlessChromium browser) throws IOException {
    return JSON.readTree(browser.evaluate(PAGE_STATE).asText());
  }

  private static void waitForRows(HeadlessChromium browser, int rows) {
    browser.waitFor(
        "document.querySelectorAll('#log tbody tr').length === "
            + rows
            + " && document.getElementById('status').textContent === 'connected'",
        WAIT,
        PAGE_STATE);
  }

  @ParameterizedTest(name = "--server {0}")
  @ValueSource(strings = {"netty", "jetty"})
  @Timeout(120)
  void demoPage_staysOnItsBackendAcrossReconnects_thenFailsOverWithANewCookie(
      String server, @TempDir Path tmp) throws Exception {
    Path chromium = HeadlessChromium.findOrSkip();
    try (DemoLauncher demo = DemoLauncher.start("--server", server);
        HeadlessChromium browser = HeadlessChromium.launch(chromium, tmp, 1100, 980)) {
      // Opened as localhost on one run: the WebSocket then goes to localhost too (the page's own
      // host), so the SameSite=Lax cookie is same-site and kept.
      String url =
          server.equals("jetty")
              ? demo.pageUrl().replace("127.0.0.1", "localhost")
              : demo.pageUrl();
      browser.navigate(url);

      // The first WebSocket lands on a backend and gets the affinity cookie.
      waitForRows(browser, 1);
      JsonNode first = state(browser);
      String home = first.get("backend").asText();
      String cookie = first.get("cookie").asText();
      assertThat(home).isIn("ws-1", "ws-2", "ws-3");
      assertThat(cookie).matches("[0-9a-f]{8}");
      assertThat(first.get("change").asText()).isEqualTo("new");
      assertThat(first.get("cookieSeen").asText()).isEqualTo("none");
      assertThat(first.get("current")).hasSize(1);
      assertThat(first.get("current").get(0).asText()).isEqualTo(home);

      // Five reconnects: the browser sends the cookie, the proxy keeps it on the same backend.
      for (int i = 1; i <= 5; i++) {
        browser.evaluate("document.getElementById('reconnect').click()");
        waitForRows(browser, i + 1);
        JsonNode s = state(browser);
        JsonNode row = s.get("rows").get(i);
        assertThat(row.get("backend").asText()).as("reconnect %d", i).isEqualTo(home);
        assertThat(row.get("cookie").asText()).as("reconnect %d", i).isEqualTo(cookie);
        assertThat(row.get("change").asText()).as("reconnect %d", i).isEqualTo("same");
        assertThat(s.get("cookieSeen").asText())
            .as("cookie the backend received")
            .isEqualTo(cookie);
      }

      // Stop that backend: the page shows it down and the WebSocket closed.
      browser.evaluate(
          "document.querySelector('.backend[data-id=\"" + home + "\"] .toggle').click()");
      browser.waitFor(
          "document.querySelector('.backend[data-id=\""
              + home
              + "\"] .state').textContent === 'DOWN'"
              + " && document.querySelector('.backend[data-id=\""
              + home
              + "\"] .running').textContent === 'stopped'"
              + " && document.getElementById('status').textContent === 'disconnected'",
          WAIT,
          PAGE_STATE);
      JsonNode stopped = state(browser);
      assertThat(stopped.get("backend").asText()).isEqualTo("none (was " + home + ")");
      assertThat(stopped.get("change").asText()).isEqualTo("not in use");
      assertThat(stopped.get("current")).isEmpty();

      // Reconnect: another backend, and a new cookie naming it.
      browser.evaluate("document.getElementById('reconnect').click()");
      waitForRows(browser, 7);
      JsonNode after = state(browser);
      String moved = after.get("backend").asText();
      assertThat(moved).isIn("ws-1", "ws-2", "ws-3").isNotEqualTo(home);
      assertThat(after.get("cookie").asText()).matches("[0-9a-f]{8}").isNotEqualTo(cookie);
      assertThat(after.get("change").asText()).isEqualTo("new");
      assertThat(after.get("cookieSeen").asText())
          .as("the stale cookie was sent")
          .isEqualTo(cookie);
      JsonNode last = after.get("rows").get(6);
      assertThat(last.get("backend").asText()).isEqualTo(moved);
      assertThat(last.get("change").asText()).isEqualTo("new");
      assertThat(after.get("current")).hasSize(1);
      assertThat(after.get("current").get(0).asText()).isEqualTo(moved);

      assertThat(browser.evaluate("document.getElementById('server').textContent").asText())
          .isEqualTo(server);
      keepScreenshot(server, browser.screenshot());
    }
  }

  /**
   * Keeps the screenshot in {@code target/}; with {@code -Daffinity.updateDocs=true} the Netty one
   * also as {@code docs/demo.png}.
   */
  private static void keepScreenshot(String server, byte[] png) throws IOException {
    assertThat(png).hasSizeGreaterThan(10_000);
    Path target = Path.of("target", "demo-page-" + server + ".png");
    Files.write(target, png);
    if (server.equals("netty") && Boolean.getBoolean("affinity.updateDocs")) {
      Files.copy(target, Path.of("..", "docs", "demo.png"), StandardCopyOption.REPLACE_EXISTING);
    }
  }
}

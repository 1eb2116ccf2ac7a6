package dev.affinity.testkit;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * A Node.js script from the testkit's node directory ({@code affinity-testkit/node}), run as a
 * child process that prints one JSON object per line on stdout. Lines are parsed as they arrive (a
 * line that is not JSON is kept as a text node) and tests wait for the ones they need, bounded.
 * {@link #close()} kills the process ({@code destroyForcibly}) and waits for it.
 *
 * <p>The directory comes from the system property {@code affinity.node.dir} (set by the parent
 * pom's Surefire configuration), else from {@code affinity-testkit/node} above the working
 * directory. Its {@code node_modules} must be installed: {@code npm ci --prefix
 * affinity-testkit/node} (CI's {@code .ci/run} does it).
 *
 * <pre>{@code
 * try (NodeProcess backend = NodeProcess.start("sio-1", "backend.js", List.of("--id", "sio-1"))) {
 *   int port = backend.awaitLine("listening", WAIT, l -> l.has("port")).get("port").asInt();
 * }
 * }</pre>
 */
public final class NodeProcess implements AutoCloseable {
  /** The command that installs the node directory's packages, named in every failure. */
  public static final String INSTALL_COMMAND = "npm ci --prefix affinity-testkit/node";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int STDERR_KEPT = 8 * 1024;

  private final String name;
  private final Process process;
  private final List<JsonNode> lines = new ArrayList<>();
  private final StringBuilder stderr = new StringBuilder();
  private boolean stdoutEnded;

  private NodeProcess(String name, Process process) {
    this.name = name;
    this.process = process;
    Thread out = new Thread(() -> readStdout(process.getInputStream()), "node-" + name + "-out");
    out.setDaemon(true);
    out.start();
    Thread err = new Thread(() -> readStderr(process.getErrorStream()), "node-" + name + "-err");
    err.setDaemon(true);
    err.start();
  }

  /**
   * The node directory with its packages installed.
   *
   * @throws IllegalStateException naming {@link #INSTALL_COMMAND} if it or its {@code node_modules}
   *     is missing, or if {@code node} is not on the PATH
   */
  public static Path nodeDir() {
    String configured = System.getProperty("affinity.node.dir");
    Path dir = null;
    // An unresolved "${...}" (a build that does not set the project directory) counts as unset.
    if (configured != null && !configured.isBlank() && !configured.contains("${")) {
      dir = Path.of(configured);
    } else {
      for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
        Path candidate = p.resolve("affinity-testkit").resolve("node");
        if (Files.isDirectory(candidate)) {
          dir = candidate;
          break;
        }
      }
    }
    if (dir == null || !Files.isRegularFile(dir.resolve("package.json"))) {
      throw new IllegalStateException(
          "no affinity-testkit/node directory (system property affinity.node.dir: "
              + configured
              + ")");
    }
    if (!Files.isDirectory(dir.resolve("node_modules").resolve("socket.io"))) {
      throw new IllegalStateException(
          "the Node.js packages of " + dir + " are not installed: run " + INSTALL_COMMAND);
    }
    return dir;
  }

  /**
   * Starts {@code node <script> <args>} in {@link #nodeDir()}.
   *
   * @throws IllegalStateException if the directory is not ready or {@code node} cannot start
   */
  public static NodeProcess start(String name, String script, List<String> args) {
    requireNonNull(name, "name");
    Path dir = nodeDir();
    List<String> command = new ArrayList<>();
    command.add("node");
    command.add(requireNonNull(script, "script"));
    command.addAll(args);
    try {
      return new NodeProcess(name, new ProcessBuilder(command).directory(dir.toFile()).start());
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot run node (install Node.js 18+ and run " + INSTALL_COMMAND + "): " + e, e);
    }
  }

  private void readStdout(InputStream in) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        JsonNode node;
        try {
          node = JSON.readTree(line);
        } catch (IOException e) {
          node = TextNode.valueOf(line);
        }
        synchronized (this) {
          lines.add(node);
          notifyAll();
        }
      }
    } catch (IOException e) {
      // the process was killed
    } finally {
      synchronized (this) {
        stdoutEnded = true;
        notifyAll();
      }
    }
  }

  private void readStderr(InputStream in) {
    byte[] buf = new byte[4096];
    try (in) {
      int n;
      while ((n = in.read(buf)) >= 0) {
        synchronized (stderr) {
          stderr.append(new String(buf, 0, n, StandardCharsets.UTF_8));
          if (stderr.length() > STDERR_KEPT) {
            stderr.delete(0, stderr.length() - STDERR_KEPT);
          }
        }
      }
    } catch (IOException e) {
      // the process was killed
    }
  }

  /** Every line so far, in order. */
  public synchronized List<JsonNode> lines() {
    return List.copyOf(lines);
  }

  /** The lines so far whose {@code event} field is {@code event}. */
  public List<JsonNode> events(String event) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode l : lines()) {
      if (event.equals(l.path("event").asText())) {
        out.add(l);
      }
    }
    return out;
  }

  /**
   * Waits for the first line (from the start) matching {@code match}.
   *
   * @throws AssertionError naming {@code what}, the process's stderr and whether it exited, if no
   *     such line comes within {@code timeout}
   */
  public JsonNode awaitLine(String what, Duration timeout, Predicate<JsonNode> match) {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (this) {
      int seen = 0;
      while (true) {
        for (; seen < lines.size(); seen++) {
          if (match.test(lines.get(seen))) {
            return lines.get(seen);
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0 || stdoutEnded) {
          throw new AssertionError(
              name
                  + ": no "
                  + what
                  + (stdoutEnded ? " before its output ended" : " within " + timeout)
                  + "; last lines "
                  + lines.subList(Math.max(0, lines.size() - 5), lines.size())
                  + "; stderr: "
                  + stderr());
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(this, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError("interrupted while waiting for " + what, e);
        }
      }
    }
  }

  /** The last 8 KiB the process wrote to stderr. */
  public String stderr() {
    synchronized (stderr) {
      return stderr.toString();
    }
  }

  /** Closes the process's stdin: the testkit scripts stop (or finish a hold) when it closes. */
  public void closeStdin() {
    try {
      process.getOutputStream().close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether the process is still running. */
  public boolean isAlive() {
    return process.isAlive();
  }

  /** Kills the process at once (SIGKILL), as a crash would, and waits for it to be gone. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Kills the process ({@link #kill()}). */
  @Override
  public void close() {
    kill();
  }

  /** A field of a JSON line as text, or null if absent or JSON null. */
  public static @Nullable String text(JsonNode line, String field) {
    JsonNode v = line.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  @Override
  public String toString() {
    return "NodeProcess{" + name + (process.isAlive() ? ", running" : ", exited") + "}";
  }
}

package dev.affinity.redis;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A real {@code redis-server} (the Debian package) on a free loopback port, for tests. It can be
 * killed and started again on the same port, which the fault tests use.
 */
final class RedisServer implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

  private final int port;
  private final Path dir;
  private @Nullable Process process;

  private RedisServer(int port, Path dir) {
    this.port = port;
    this.dir = dir;
  }

  /** Starts a server on a free loopback port; fails the test if it does not answer PING. */
  static RedisServer start() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    RedisServer server = new RedisServer(port, Files.createTempDirectory("affinity-redis"));
    server.startProcess();
    return server;
  }

  int port() {
    return port;
  }

  String uri() {
    return "redis://127.0.0.1:" + port;
  }

  /** Kills the server process at once (SIGKILL) and waits until it is gone. */
  void kill() throws InterruptedException {
    Process p = process;
    if (p != null) {
      p.destroyForcibly();
      p.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      process = null;
    }
  }

  /** Freezes the server (SIGSTOP): connections stay open and nothing is answered. */
  void pause() throws IOException, InterruptedException {
    signal("-STOP");
  }

  /** Thaws a {@link #pause paused} server (SIGCONT). */
  void resume() throws IOException, InterruptedException {
    signal("-CONT");
  }

  private void signal(String sig) throws IOException, InterruptedException {
    Process p = process;
    if (p == null) {
      throw new IllegalStateException("redis-server is not running");
    }
    Process kill = new ProcessBuilder("kill", sig, Long.toString(p.pid())).inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new IOException("kill " + sig + " " + p.pid() + " failed");
    }
  }

  /** Starts the server again on the same port, empty (no persistence). */
  void restart() throws IOException {
    startProcess();
  }

  private void startProcess() throws IOException {
    ProcessBuilder pb =
        new ProcessBuilder(
                List.of(
                    "redis-server",
                    "--port",
                    Integer.toString(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    dir.toString(),
                    "--protected-mode",
                    "yes"))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("redis.log").toFile());
    Process p = pb.start();
    process = p;
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IOException(
            "redis-server exited: " + Files.readString(dir.resolve("redis.log"), UTF_8));
      }
      if (answersPing()) {
        return;
      }
      try {
        p.waitFor(20, TimeUnit.MILLISECONDS); // poll interval while the server starts
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
    }
    p.destroyForcibly();
    throw new IOException("redis-server did not answer PING within " + START_TIMEOUT);
  }

  private boolean answersPing() {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(1000);
      OutputStream out = s.getOutputStream();
      out.write("PING\r\n".getBytes(UTF_8));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[7];
      int n = in.readNBytes(buf, 0, 7);
      return new String(buf, 0, n, UTF_8).equals("+PONG\r\n");
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() {
    try {
      kill();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

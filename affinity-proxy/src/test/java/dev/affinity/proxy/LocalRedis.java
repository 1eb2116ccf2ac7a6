package dev.affinity.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.affinity.testkit.Await;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} on a free loopback port, without persistence, for the proxy's fleet
 * tests: started, killed and started again on the same port.
 */
final class LocalRedis implements AutoCloseable {
  private final Path dir;
  private final int port;
  private Process process;

  private LocalRedis(Path dir, int port) throws IOException {
    this.dir = dir;
    this.port = port;
    this.process = launch();
  }

  /** Starts a server in {@code dir} and returns once it answers PING. */
  static LocalRedis start(Path dir) throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    LocalRedis r = new LocalRedis(dir, port);
    r.awaitPing();
    return r;
  }

  private Process launch() throws IOException {
    return new ProcessBuilder(
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
            dir.toString())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("redis.log").toFile()))
        .start();
  }

  private void awaitPing() {
    Await.until("redis-server answers PING", Duration.ofSeconds(20), this::pings);
  }

  /** {@code redis://127.0.0.1:PORT}. */
  String uri() {
    return "redis://127.0.0.1:" + port;
  }

  int port() {
    return port;
  }

  /** Whether the server answers PING now. */
  boolean pings() {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(1000);
      OutputStream o = s.getOutputStream();
      o.write("PING\r\n".getBytes(UTF_8));
      o.flush();
      InputStream in = s.getInputStream();
      return new String(in.readNBytes(7), UTF_8).equals("+PONG\r\n");
    } catch (IOException e) {
      return false;
    }
  }

  /** Kills the server (SIGKILL) and waits for it to be gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /** Starts the server again, empty, on the same port. */
  void restart() throws IOException {
    process = launch();
    awaitPing();
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

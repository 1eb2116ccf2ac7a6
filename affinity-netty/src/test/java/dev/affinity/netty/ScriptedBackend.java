package dev.affinity.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A backend the test thread plays by hand on 127.0.0.1: accept the proxy's connection, read the
 * forwarded head, write exactly the bytes a scenario needs. Every read waits at most 30 s.
 */
final class ScriptedBackend implements AutoCloseable {
  static final int READ_TIMEOUT_MILLIS = 30_000;
  private final ServerSocket listener;

  ScriptedBackend() throws IOException {
    listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    listener.setSoTimeout(READ_TIMEOUT_MILLIS);
  }

  int port() {
    return listener.getLocalPort();
  }

  /**
   * Starts a proxy on 127.0.0.1 (one event loop thread) that routes every client to this backend,
   * under {@code config}.
   */
  AffinityProxyServer proxy(AffinityProxyConfig config) throws InterruptedException {
    Router router = Router.builder(BackendGroup.of(Backend.of("raw", "127.0.0.1", port()))).build();
    return AffinityProxyServer.builder(router)
        .host("127.0.0.1")
        .port(0)
        .ioThreads(1)
        .config(config)
        .build()
        .start();
  }

  /** Accepts the proxy's connection and reads the forwarded upgrade request head. */
  Socket acceptHandshake() throws IOException {
    Socket s = listener.accept();
    s.setSoTimeout(READ_TIMEOUT_MILLIS);
    assertThat(readHead(s.getInputStream()))
        .startsWith("GET / HTTP/1.1\r\n")
        .containsIgnoringCase("upgrade: websocket");
    return s;
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      assertThat(b).as("a byte of the forwarded head").isNotNegative();
      head.write(b);
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  /** Writes {@code text} (ISO-8859-1) to {@code s} and flushes it. */
  static void write(Socket s, String text) throws IOException {
    s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
    s.getOutputStream().flush();
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }
}

package dev.affinity.lifecycle;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import dev.affinity.backend.Backend;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A real backend on 127.0.0.1 for probe tests: answers WebSocket handshakes with a proper 101, or
 * with 503, or hangs (accepts TCP and never answers), and can go down (stop listening) and come
 * back on the same port.
 */
final class TestBackend implements AutoCloseable {
  enum Mode {
    WEBSOCKET,
    STATUS_503,
    HANG
  }

  private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

  private final int port;
  private final List<Socket> accepted = new CopyOnWriteArrayList<>();
  private volatile Mode mode = Mode.WEBSOCKET;
  private volatile ServerSocket server;
  private volatile Thread acceptor;

  private TestBackend(ServerSocket server) {
    this.server = server;
    this.port = server.getLocalPort();
    startAccepting(server);
  }

  static TestBackend start() throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
    return new TestBackend(s);
  }

  int port() {
    return port;
  }

  Backend backend(String id) {
    return Backend.of(id, "127.0.0.1", port);
  }

  void mode(Mode m) {
    this.mode = m;
  }

  /** Stops listening and drops every connection: connects are refused until {@link #up()}. */
  void down() throws IOException {
    server.close();
    // The JDK defers the real close of a listening socket until the thread blocked in accept()
    // wakes; on a loaded machine that takes a while, and the port keeps accepting meanwhile.
    try {
      acceptor.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while stopping", e);
    }
    if (acceptor.isAlive()) {
      throw new IOException("accept thread did not stop");
    }
    for (Socket s : accepted) {
      s.close();
    }
    accepted.clear();
  }

  /** Listens again on the same port. */
  void up() throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
    server = s;
    startAccepting(s);
  }

  private void startAccepting(ServerSocket s) {
    Thread t =
        new Thread(
            () -> {
              while (!s.isClosed()) {
                try {
                  Socket c = s.accept();
                  accepted.add(c);
                  Thread h = new Thread(() -> handle(c), "test-backend-conn");
                  h.setDaemon(true);
                  h.start();
                } catch (IOException e) {
                  return;
                }
              }
            },
            "test-backend-" + port);
    t.setDaemon(true);
    acceptor = t;
    t.start();
  }

  private void handle(Socket c) {
    try (c) {
      Mode m = mode;
      if (m == Mode.HANG) {
        // Accept and never answer; hold the socket until the test closes it.
        c.getInputStream().read(new byte[1]);
        while (!c.isClosed() && c.getInputStream().read(new byte[1024]) >= 0) {
          // swallow
        }
        return;
      }
      String head = readHead(c.getInputStream());
      OutputStream out = c.getOutputStream();
      if (m == Mode.STATUS_503) {
        out.write(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .getBytes(ISO_8859_1));
        out.flush();
        return;
      }
      String key = header(head, "sec-websocket-key");
      out.write(
          ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  + "Sec-WebSocket-Accept: "
                  + accept(key)
                  + "\r\n\r\n")
              .getBytes(ISO_8859_1));
      out.flush();
      InputStream in = c.getInputStream();
      while (in.read(new byte[1024]) >= 0) {
        // read until the client goes away
      }
    } catch (IOException e) {
      // connection ended
    } finally {
      accepted.remove(c);
    }
  }

  private static String readHead(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0) {
      sb.append((char) b);
      if (sb.length() >= 4 && sb.substring(sb.length() - 4).equals("\r\n\r\n")) {
        break;
      }
      if (sb.length() > 16_384) {
        throw new IOException("head too long");
      }
    }
    return sb.toString();
  }

  private static String header(String head, String name) {
    for (String line : head.split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(name)) {
        return line.substring(colon + 1).trim();
      }
    }
    return "";
  }

  static String accept(String key) {
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      return Base64.getEncoder().encodeToString(sha1.digest((key + GUID).getBytes(ISO_8859_1)));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() throws IOException {
    down();
  }
}

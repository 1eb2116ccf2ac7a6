package dev.affinity.lifecycle;

import dev.affinity.backend.Backend;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The built-in {@link HealthProbe}s. */
final class Probes {
  private Probes() {}

  static final HealthProbe TCP =
      new HealthProbe() {
        @Override
        public void probe(Backend backend, Duration timeout) throws IOException {
          try (Socket socket = new Socket()) {
            socket.connect(
                new InetSocketAddress(backend.host(), backend.port()), timeoutMillis(timeout));
            if (isSelfConnect(socket)) {
              // Nothing listens, and the kernel picked the target port as our own ephemeral port:
              // TCP simultaneous open connected the socket to itself. The backend is not there.
              throw new ConnectException(
                  "connected to itself: nothing listens on " + backend.port());
            }
          }
        }

        @Override
        public String toString() {
          return "HealthProbe.tcp()";
        }
      };

  static boolean isSelfConnect(Socket socket) {
    return socket.getLocalPort() == socket.getPort()
        && socket.getLocalAddress().equals(socket.getInetAddress());
  }

  static int timeoutMillis(Duration timeout) {
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
  }

  /**
   * A WebSocket opening handshake through {@link HttpClient}, which validates the 101 and the
   * accept key itself: no hand-written HTTP parsing.
   */
  static final class WebSocketProbe implements HealthProbe {
    private final String path;
    // One client for every probe: it owns a selector thread, so sharing keeps threads bounded.
    private final HttpClient client =
        HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    WebSocketProbe(String path) {
      this.path = path;
    }

    @Override
    public void probe(Backend backend, Duration timeout) throws Exception {
      URI uri = URI.create("ws://" + authority(backend) + path);
      CompletableFuture<WebSocket> opening =
          client
              .newWebSocketBuilder()
              .connectTimeout(timeout)
              .buildAsync(uri, new WebSocket.Listener() {});
      WebSocket ws;
      try {
        // connectTimeout covers the handshake; the extra bound guards against a stuck client.
        ws = opening.get(timeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        opening.cancel(true);
        throw e;
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        throw cause instanceof Exception ? (Exception) cause : e;
      }
      try {
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "health check")
            .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException | TimeoutException e) {
        // The handshake succeeded, which is what the probe checks; closing is courtesy.
      } finally {
        ws.abort();
      }
    }

    private static String authority(Backend backend) {
      String host = backend.host();
      return (host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host)
          + ":"
          + backend.port();
    }

    @Override
    public String toString() {
      return "HealthProbe.webSocket(\"" + path + "\")";
    }
  }
}

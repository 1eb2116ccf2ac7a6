package dev.affinity.jetty;

import java.nio.ByteBuffer;
import java.time.Duration;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * A Jetty WebSocket endpoint of the user's own: announces {@code backend:<id>} and echoes. Stands
 * for "your own WebSocket endpoint" in the decide-only tests.
 */
final class JettyEchoServer implements AutoCloseable {
  private final Server server = new Server();
  private final ServerConnector connector = new ServerConnector(server);

  JettyEchoServer(String id) throws Exception {
    this(id, null);
  }

  JettyEchoServer(
      String id, org.eclipse.jetty.server.@org.jspecify.annotations.Nullable Handler front)
      throws Exception {
    connector.setHost("127.0.0.1");
    server.addConnector(connector);
    WebSocketUpgradeHandler ws =
        WebSocketUpgradeHandler.from(
            server,
            container -> {
              container.setIdleTimeout(Duration.ofMinutes(1));
              container.setMaxTextMessageSize(4 << 20);
              container.setMaxBinaryMessageSize(4 << 20);
              container.addMapping("/*", (req, resp, cb) -> new Echo(id));
            });
    if (front instanceof org.eclipse.jetty.server.Handler.Wrapper) {
      ((org.eclipse.jetty.server.Handler.Wrapper) front).setHandler(ws);
      server.setHandler(front);
    } else {
      server.setHandler(ws);
    }
    server.start();
  }

  int port() {
    return connector.getLocalPort();
  }

  @Override
  public void close() throws Exception {
    server.stop();
  }

  /** Announces its id, then echoes text and binary messages. */
  public static final class Echo implements Session.Listener.AutoDemanding {
    private final String id;
    private Session session;

    Echo(String id) {
      this.id = id;
    }

    @Override
    public void onWebSocketOpen(Session session) {
      this.session = session;
      session.sendText("backend:" + id, Callback.NOOP);
    }

    @Override
    public void onWebSocketText(String message) {
      session.sendText(message, Callback.NOOP);
    }

    @Override
    public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
      session.sendBinary(payload, callback);
    }
  }
}

package dev.affinity.testkit;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.ExtensionConfig;
import org.eclipse.jetty.websocket.api.exceptions.UpgradeException;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.jspecify.annotations.Nullable;

/** {@link WsClient} over Jetty's WebSocket client; public only because Jetty needs it. */
public final class JettyWsClient implements WsClient {
  private final HttpClient http = new HttpClient();
  private final WebSocketClient client = new WebSocketClient(http);

  /** Starts a client; prefer {@link WsClient#jetty()}. */
  public JettyWsClient() {
    client.setMaxTextMessageSize(16 * 1024 * 1024);
    client.setMaxBinaryMessageSize(16 * 1024 * 1024);
    client.setIdleTimeout(Duration.ofMinutes(2));
    client.setConnectTimeout(30_000);
    try {
      client.start();
    } catch (Exception e) {
      throw new IllegalStateException("cannot start the Jetty WebSocket client", e);
    }
  }

  @Override
  public WsSession connect(Handshake handshake) {
    ClientUpgradeRequest req = new ClientUpgradeRequest(handshake.uri());
    handshake.headers().forEach(req::setHeader);
    if (!handshake.subprotocols().isEmpty()) {
      req.setSubProtocols(handshake.subprotocols());
    }
    if (!handshake.extensions().isEmpty()) {
      req.addExtensions(handshake.extensions().toArray(new String[0]));
    }
    Session listener = new Session();
    try {
      listener.session = client.connect(listener, req).get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      int status = -1;
      for (Throwable t = cause; t != null; t = t.getCause()) {
        if (t instanceof UpgradeException) {
          status = ((UpgradeException) t).getResponseStatusCode();
          break;
        }
      }
      throw new HandshakeFailedException("jetty handshake to " + handshake.uri(), status, cause);
    } catch (TimeoutException | java.io.IOException e) {
      throw new HandshakeFailedException("jetty handshake to " + handshake.uri(), -1, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HandshakeFailedException("interrupted", -1, e);
    }
    return listener;
  }

  @Override
  public @Nullable String cookie(String name) {
    for (var c : http.getHttpCookieStore().all()) {
      if (c.getName().equals(name)) {
        return c.getValue();
      }
    }
    return null;
  }

  @Override
  public String name() {
    return "jetty";
  }

  @Override
  public void close() {
    try {
      client.stop();
    } catch (Exception e) {
      throw new IllegalStateException("cannot stop the Jetty WebSocket client", e);
    }
  }

  /** The Jetty listener of one session; public because Jetty invokes it by method handles. */
  public static final class Session
      implements WsSession, org.eclipse.jetty.websocket.api.Session.Listener.AutoDemanding {
    private final Inbox inbox = new Inbox();
    private volatile org.eclipse.jetty.websocket.api.@Nullable Session session;

    @Override
    public void onWebSocketPartialText(String payload, boolean fin) {
      inbox.textPart(payload, fin);
    }

    @Override
    public void onWebSocketPartialBinary(ByteBuffer payload, boolean fin, Callback callback) {
      inbox.binaryPart(payload, fin);
      callback.succeed();
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason, Callback callback) {
      inbox.closed(statusCode, "closed: " + statusCode + " " + reason);
      callback.succeed();
    }

    @Override
    public void onWebSocketError(Throwable cause) {
      inbox.closed("error: " + cause);
    }

    private org.eclipse.jetty.websocket.api.Session session() {
      var s = session;
      if (s == null) {
        throw new IllegalStateException("not connected");
      }
      return s;
    }

    @Override
    public void sendText(String s) {
      Callback.Completable done = new Callback.Completable();
      session().sendText(s, done);
      Inbox.awaitSent(done);
    }

    @Override
    public void sendBinary(byte[] data) {
      Callback.Completable done = new Callback.Completable();
      session().sendBinary(ByteBuffer.wrap(data), done);
      Inbox.awaitSent(done);
    }

    @Override
    public WsMessage next(Duration timeout) {
      return inbox.next(timeout);
    }

    @Override
    public boolean awaitClosed(Duration timeout) {
      return inbox.awaitClosed(timeout);
    }

    @Override
    public int closeStatus() {
      var s = session;
      if (s != null && !s.isOpen()) {
        // The session reads closed a moment before the close callback records the status.
        inbox.awaitClosed(Duration.ofSeconds(10));
      }
      return inbox.closeStatus();
    }

    @Override
    public boolean isOpen() {
      var s = session;
      return s != null && s.isOpen() && !inbox.isClosed();
    }

    @Override
    public @Nullable String subprotocol() {
      String p = session().getUpgradeResponse().getAcceptedSubProtocol();
      return p == null || p.isEmpty() ? null : p;
    }

    @Override
    public List<String> extensions() {
      List<String> names = new ArrayList<>();
      for (ExtensionConfig e : session().getUpgradeResponse().getExtensions()) {
        names.add(e.getName());
      }
      return names;
    }

    @Override
    public void close() {
      var s = session;
      if (s != null && s.isOpen()) {
        s.close(1000, "bye", Callback.NOOP);
      }
      inbox.closed("closed locally");
    }
  }
}

package dev.affinity.jetty;

import java.nio.ByteBuffer;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

/**
 * A Jetty WebSocket endpoint standing for "the user's own endpoint" in the decide-only scenarios:
 * announces {@code backend:<id>} on open, then echoes.
 */
public final class AnnouncingEcho implements Session.Listener.AutoDemanding {
  private final String id;
  private volatile Session session;

  AnnouncingEcho(String id) {
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

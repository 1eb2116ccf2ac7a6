package dev.affinity.jetty;

import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.BufferUtil;
import org.jspecify.annotations.Nullable;

/**
 * The client leg, installed on the client's endpoint through {@code
 * HttpStream.UPGRADE_CONNECTION_ATTRIBUTE} once the 101 has been written. Jetty hands over the
 * bytes it had read past the request head; they go to the backend first.
 */
final class ClientConnection extends TunnelEnd implements Connection.UpgradeTo {
  private @Nullable ByteBuffer leftover;

  ClientConnection(EndPoint endPoint, Executor executor, ByteBufferPool pool, int bufferSize) {
    super(endPoint, executor, pool, bufferSize, null);
  }

  @Override
  public void onUpgradeTo(@Nullable ByteBuffer buffer) {
    // Jetty's buffer is not pooled and is ours to keep.
    leftover = BufferUtil.hasContent(buffer) ? buffer : null;
  }

  @Nullable ByteBuffer takeLeftover() {
    ByteBuffer b = leftover;
    leftover = null;
    return b;
  }

  @Override
  public void onOpen() {
    super.onOpen();
    LiveTunnel t = tunnel();
    if (t != null) {
      t.start();
    }
  }

  @Override
  public void onFillable() {
    // Reads go through the pump's own callback; nothing registers this connection's default one.
  }
}

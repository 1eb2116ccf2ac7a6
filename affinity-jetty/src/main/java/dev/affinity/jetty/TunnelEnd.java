package dev.affinity.jetty;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.IteratingCallback;
import org.jspecify.annotations.Nullable;

/**
 * One leg of a tunnel: reads its own endpoint and writes what it read to the other leg's endpoint,
 * with exactly one buffer in flight. It reads again only after the write has completed, so a slow
 * reader on the far side stops us reading here and TCP flow control pushes back on the sender.
 */
abstract class TunnelEnd extends AbstractConnection {
  private final ByteBufferPool pool;
  private final int bufferSize;
  private final Pump pump = new Pump();
  private volatile @Nullable LiveTunnel tunnel;
  private volatile @Nullable TunnelEnd peer;

  TunnelEnd(EndPoint endPoint, Executor executor, ByteBufferPool pool, int bufferSize) {
    super(endPoint, executor);
    this.pool = pool;
    this.bufferSize = bufferSize;
  }

  final void join(LiveTunnel tunnel, TunnelEnd peer) {
    this.tunnel = tunnel;
    this.peer = peer;
  }

  final @Nullable LiveTunnel tunnel() {
    return tunnel;
  }

  /** Starts relaying, after first writing {@code leftover} (bytes read before the tunnel began). */
  final void startPump(@Nullable ByteBuffer leftover) {
    pump.pending = BufferUtil.hasContent(leftover) ? leftover : null;
    pump.iterate();
  }

  @Override
  public boolean onIdleExpired(TimeoutException timeout) {
    LiveTunnel t = tunnel;
    if (t != null) {
      t.close(timeout);
    }
    return true;
  }

  @Override
  public void onClose(@Nullable Throwable cause) {
    super.onClose(cause);
    LiveTunnel t = tunnel;
    if (t != null) {
      t.close(cause);
    }
  }

  private final class Pump extends IteratingCallback {
    private @Nullable ByteBuffer pending;
    private @Nullable RetainableByteBuffer buffer;

    @Override
    protected Action process() {
      LiveTunnel t = tunnel;
      TunnelEnd to = peer;
      if (t == null || to == null || !t.isOpen()) {
        release();
        return Action.SUCCEEDED;
      }
      ByteBuffer first = pending;
      if (first != null) {
        pending = null;
        to.getEndPoint().write(this, first);
        return Action.SCHEDULED;
      }
      if (buffer == null) {
        buffer = pool.acquire(bufferSize, true);
      }
      ByteBuffer bytes = buffer.getByteBuffer();
      BufferUtil.clear(bytes);
      int filled;
      try {
        filled = getEndPoint().fill(bytes);
      } catch (IOException e) {
        release();
        t.close(e);
        return Action.SUCCEEDED;
      }
      if (filled > 0) {
        to.getEndPoint().write(this, bytes);
        return Action.SCHEDULED;
      }
      // Nothing to send: an idle tunnel holds no buffer.
      release();
      if (filled == 0) {
        fillInterested(this);
        return Action.SCHEDULED;
      }
      t.inputEnded(to);
      return Action.SUCCEEDED;
    }

    @Override
    protected void onCompleteFailure(Throwable cause) {
      // Only reached once the scheduled read or write has completed: the buffer is ours again.
      release();
      LiveTunnel t = tunnel;
      if (t != null) {
        t.close(cause);
      }
    }

    private void release() {
      RetainableByteBuffer b = buffer;
      if (b != null) {
        buffer = null;
        b.release();
      }
    }
  }
}

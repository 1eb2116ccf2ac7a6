package dev.affinity.jetty;

import dev.affinity.internal.WebSocketFrameTracker;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.IteratingCallback;
import org.eclipse.jetty.util.thread.Invocable;
import org.jspecify.annotations.Nullable;

/**
 * One leg of a tunnel: reads its own endpoint and writes what it read to the other leg's endpoint,
 * with exactly one buffer in flight. It reads again only after the write has completed, so a slow
 * reader on the far side stops us reading here and TCP flow control pushes back on the sender.
 *
 * <p>A leg given a {@link WebSocketFrameTracker} (the backend leg) also follows frame boundaries,
 * so that {@link #closeWithFrame} can put a WebSocket close frame between two frames toward the
 * client.
 */
abstract class TunnelEnd extends AbstractConnection {
  // The pump's phase, so that a close frame from another thread never overlaps a pump write.
  private static final int RUNNING = 0; // in process(), or writing to the peer
  private static final int PARKED_AT_BOUNDARY = 1; // waiting to read, between two frames
  private static final int PARKED_MID_FRAME = 2; // waiting to read, inside a frame
  private static final int CLOSER_WRITES = 3; // the closer took the write side: the pump stops

  private final ByteBufferPool pool;
  private final int bufferSize;
  private final @Nullable WebSocketFrameTracker frames;
  private final Pump pump = new Pump();
  private final AtomicInteger phase = new AtomicInteger(RUNNING);
  private volatile @Nullable LiveTunnel tunnel;
  private volatile @Nullable TunnelEnd peer;
  private volatile byte @Nullable [] closeFrame;

  TunnelEnd(
      EndPoint endPoint,
      Executor executor,
      ByteBufferPool pool,
      int bufferSize,
      @Nullable WebSocketFrameTracker frames) {
    super(endPoint, executor);
    this.pool = pool;
    this.bufferSize = bufferSize;
    this.frames = frames;
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

  /**
   * Asks this leg to send {@code frame} to the peer at the next frame boundary and then close the
   * tunnel. Written here at once when the pump is idle between frames; otherwise the pump sends it
   * when the current frame ends. Only for a leg with a frame tracker; any thread.
   */
  final void closeWithFrame(byte[] frame) {
    closeFrame = frame;
    if (phase.compareAndSet(PARKED_AT_BOUNDARY, CLOSER_WRITES)) {
      writeCloseFrame(frame);
    }
  }

  private void writeCloseFrame(byte[] frame) {
    LiveTunnel t = tunnel;
    TunnelEnd to = peer;
    if (t == null || to == null) {
      return;
    }
    to.getEndPoint().write(Callback.from(() -> t.close(null), t::close), ByteBuffer.wrap(frame));
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
    private boolean closeFrameSent;

    /**
     * Non-blocking, as the tunnel of Jetty's own {@code ConnectHandler}: a fill, a write, a close
     * and the tunnel listener (which must not block) are all the pump does, so the selector runs it
     * itself when bytes arrive or a write completes. As a blocking callback (the default) each read
     * became a task for the thread pool, and a burst of them grew the pool to its maximum.
     */
    @Override
    public Invocable.InvocationType getInvocationType() {
      return Invocable.InvocationType.NON_BLOCKING;
    }

    @Override
    protected Action process() {
      LiveTunnel t = tunnel;
      TunnelEnd to = peer;
      int p = phase.get();
      if (p == CLOSER_WRITES || !phase.compareAndSet(p, RUNNING)) {
        release(); // the closer writes the close frame and then closes the tunnel
        return Action.SUCCEEDED;
      }
      if (t == null || to == null || !t.isOpen()) {
        release();
        return Action.SUCCEEDED;
      }
      if (closeFrameSent) {
        release();
        t.close(null);
        return Action.SUCCEEDED;
      }
      while (true) {
        byte[] close = closeFrame;
        if (close != null && frames != null && frames.atBoundary()) {
          release();
          closeFrameSent = true;
          to.getEndPoint().write(this, ByteBuffer.wrap(close));
          return Action.SCHEDULED;
        }
        ByteBuffer bytes = pending;
        if (bytes != null) {
          pending = null;
        } else {
          if (buffer == null) {
            buffer = pool.acquire(bufferSize, true);
          }
          bytes = buffer.getByteBuffer();
          BufferUtil.clear(bytes);
          int filled;
          try {
            filled = getEndPoint().fill(bytes);
          } catch (IOException e) {
            release();
            t.close(e);
            return Action.SUCCEEDED;
          }
          if (filled == 0) {
            release(); // nothing to send: an idle tunnel holds no buffer
            return park();
          }
          if (filled < 0) {
            release();
            t.inputEnded(to);
            return Action.SUCCEEDED;
          }
        }
        if (frames != null) {
          // Closing: send up to the end of the current frame only; what follows is dropped.
          int boundary =
              frames.advance(bytes::get, bytes.position(), bytes.limit(), closeFrame != null);
          if (boundary >= 0) {
            bytes.limit(boundary);
          }
        }
        if (bytes.hasRemaining()) {
          t.relayed(TunnelEnd.this, bytes);
          to.getEndPoint().write(this, bytes);
          return Action.SCHEDULED;
        }
      }
    }

    /** Waits for bytes; between frames a pending close frame may be written by its requester. */
    private Action park() {
      boolean boundary = frames != null && frames.atBoundary();
      phase.set(boundary ? PARKED_AT_BOUNDARY : PARKED_MID_FRAME);
      byte[] close = closeFrame;
      if (boundary && close != null && phase.compareAndSet(PARKED_AT_BOUNDARY, CLOSER_WRITES)) {
        writeCloseFrame(close); // the request came while we were parking: do it for the closer
        return Action.SUCCEEDED;
      }
      fillInterested(this);
      return Action.SCHEDULED;
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

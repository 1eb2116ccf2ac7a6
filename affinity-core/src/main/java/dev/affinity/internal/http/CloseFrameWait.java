package dev.affinity.internal.http;

import dev.affinity.internal.WebSocketFrameTracker;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * The rule both adapters follow when a live tunnel is closed with a WebSocket status code ({@code
 * Tunnel.close(code, reason)}): the close frame goes to the client between two of the backend's
 * frames, never inside one; if the backend is in the middle of a frame, the close waits for its end
 * for at most {@link #MAX_WAIT_MILLIS}, then the tunnel is closed at the TCP level. The first close
 * with a code wins; later ones are ignored.
 *
 * <p>One per tunnel. The adapter calls {@link #begin}, delivers {@link #frame()} at the backend
 * stream's next frame boundary (at once if it is at one), and calls {@link #cancel()} when the
 * tunnel ends, so the deadline does not outlive it. <strong>Not API.</strong>
 */
public final class CloseFrameWait {
  /** How long a close with a status code waits for the backend's current frame to end: 5 s. */
  public static final long MAX_WAIT_MILLIS = 5_000;

  /** Runs a task once after a delay on the adapter's own timer. */
  @FunctionalInterface
  public interface Timer {
    /** Schedules {@code task} after {@code delayMillis}; the returned action cancels it. */
    Runnable schedule(Runnable task, long delayMillis);
  }

  private final AtomicReference<byte @Nullable []> frame = new AtomicReference<>();
  private volatile @Nullable Runnable cancelDeadline;

  /**
   * Begins a close with {@code webSocketCode} and {@code reason}: builds the close frame and
   * schedules {@code cutAtDeadline} (the adapter's TCP-level close) {@link #MAX_WAIT_MILLIS} from
   * now with {@code timer}.
   *
   * @return true if this call began the close, false if one had begun already (nothing is done)
   * @throws IllegalArgumentException if the code may not be sent in a close frame ({@link
   *     AdapterSettings#closeArguments})
   */
  public boolean begin(int webSocketCode, String reason, Timer timer, Runnable cutAtDeadline) {
    AdapterSettings.closeArguments(webSocketCode, reason);
    if (!frame.compareAndSet(null, WebSocketFrameTracker.closeFrame(webSocketCode, reason))) {
      return false;
    }
    cancelDeadline = timer.schedule(cutAtDeadline, MAX_WAIT_MILLIS);
    return true;
  }

  /** Whether a close with a code has begun (its frame is to be delivered, or was). */
  public boolean begun() {
    return frame.get() != null;
  }

  /** The close frame to deliver, or null if no close with a code has begun. */
  public byte @Nullable [] frame() {
    return frame.get();
  }

  /**
   * The tunnel ended (closed, cut or the frame delivered): the deadline, if one was scheduled, is
   * cancelled. A no-op before {@link #begin}. An adapter whose tunnel may end on another thread
   * while {@link #begin} runs calls this again once {@link #begin} returned, if the tunnel ended.
   */
  public void cancel() {
    Runnable c = cancelDeadline;
    if (c != null) {
      cancelDeadline = null;
      c.run();
    }
  }
}

package dev.affinity.jetty;

import dev.affinity.internal.WebSocketFrameTracker;
import java.nio.ByteBuffer;

/**
 * Follows the frame headers of a WebSocket byte stream to know where frames end (the parsing is
 * core's {@link WebSocketFrameTracker}, shared with the Netty adapter). It lets a raw tunnel put a
 * close frame between two of the backend's frames. One per direction, used by that direction's pump
 * only.
 */
final class FrameTracker {
  private final WebSocketFrameTracker tracker = new WebSocketFrameTracker();

  /** Whether the bytes passed so far end exactly where a frame ends. */
  boolean atBoundary() {
    return tracker.atBoundary();
  }

  /**
   * Passes over {@code bytes} from its position to its limit, leaving the buffer unchanged. With
   * {@code stopAtBoundary} it stops at the first frame boundary and returns its index (the position
   * itself when already at one); otherwise, or when no frame ends in the bytes, it passes them all
   * and returns -1.
   */
  int advance(ByteBuffer bytes, boolean stopAtBoundary) {
    int i = bytes.position();
    int end = bytes.limit();
    if (stopAtBoundary && tracker.atBoundary()) {
      return i;
    }
    while (i < end) {
      int n = tracker.passPayload(end - i);
      if (n > 0) {
        i += n;
      } else {
        tracker.headerByte(bytes.get(i++));
      }
      if (stopAtBoundary && tracker.atBoundary()) {
        return i;
      }
    }
    return -1;
  }
}

package dev.affinity.netty;

import dev.affinity.internal.WebSocketFrameTracker;
import io.netty.buffer.ByteBuf;

/**
 * Follows WebSocket frame headers in a relayed {@link ByteBuf} stream to know where frames end (the
 * parsing is core's {@link WebSocketFrameTracker}, shared with the Jetty adapter). That lets the
 * tunnel put a close frame between two frames of the backend's stream. One instance per direction,
 * used on one event loop.
 */
final class FrameBoundaries {
  private final WebSocketFrameTracker tracker = new WebSocketFrameTracker();

  /** Whether the bytes seen so far end exactly at the end of a frame. */
  boolean atBoundary() {
    return tracker.atBoundary();
  }

  /**
   * Passes over the readable bytes of {@code buf} (its indexes are not changed). With {@code
   * stopAtBoundary}, stops at the first frame boundary and returns its absolute index (the reader
   * index if already at one); otherwise, or when no boundary occurs, passes everything and returns
   * -1.
   */
  int advance(ByteBuf buf, boolean stopAtBoundary) {
    int i = buf.readerIndex();
    int end = buf.writerIndex();
    if (stopAtBoundary && tracker.atBoundary()) {
      return i;
    }
    while (i < end) {
      int n = tracker.passPayload(end - i);
      if (n > 0) {
        i += n;
      } else {
        tracker.headerByte(buf.getByte(i++));
      }
      if (stopAtBoundary && tracker.atBoundary()) {
        return i;
      }
    }
    return -1;
  }
}

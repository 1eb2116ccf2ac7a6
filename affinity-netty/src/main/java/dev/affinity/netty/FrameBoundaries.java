package dev.affinity.netty;

import io.netty.buffer.ByteBuf;

/**
 * Follows WebSocket frame headers in a relayed byte stream (RFC 6455 section 5.2) to know where
 * frames end, without decoding payloads: header bytes are read, payload bytes are skipped by count.
 * That lets the tunnel put a close frame between two frames of the backend's stream. One instance
 * per direction, used on one event loop.
 */
final class FrameBoundaries {
  private final byte[] header = new byte[14];
  private int headerLength;
  private long payloadLeft;

  /** Whether the bytes seen so far end exactly at the end of a frame. */
  boolean atBoundary() {
    return headerLength == 0 && payloadLeft == 0;
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
    if (stopAtBoundary && atBoundary()) {
      return i;
    }
    while (i < end) {
      if (payloadLeft > 0) {
        int n = (int) Math.min(payloadLeft, end - i);
        i += n;
        payloadLeft -= n;
      } else {
        header[headerLength++] = buf.getByte(i++);
        if (headerLength >= 2 && headerLength == headerSize()) {
          payloadLeft = payloadLength();
          headerLength = 0;
        }
      }
      if (stopAtBoundary && atBoundary()) {
        return i;
      }
    }
    return -1;
  }

  private int headerSize() {
    int len7 = header[1] & 0x7f;
    int extended = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    int mask = (header[1] & 0x80) != 0 ? 4 : 0;
    return 2 + extended + mask;
  }

  private long payloadLength() {
    int len7 = header[1] & 0x7f;
    if (len7 < 126) {
      return len7;
    }
    int bytes = len7 == 126 ? 2 : 8;
    long n = 0;
    for (int k = 0; k < bytes; k++) {
      n = (n << 8) | (header[2 + k] & 0xff);
    }
    return n < 0 ? Long.MAX_VALUE : n; // a 64-bit length with the top bit set is invalid anyway
  }
}

package dev.affinity.jetty;

import java.nio.ByteBuffer;

/**
 * Follows the frame headers of a WebSocket byte stream (RFC 6455 section 5.2) to know where frames
 * end, without decoding payloads: header bytes are read, payload bytes skipped by count. It lets a
 * raw tunnel put a close frame between two of the backend's frames. One per direction, used by that
 * direction's pump only.
 */
final class FrameTracker {
  private final byte[] header = new byte[14];
  private int headerLength;
  private long payloadLeft;

  /** Whether the bytes passed so far end exactly where a frame ends. */
  boolean atBoundary() {
    return headerLength == 0 && payloadLeft == 0;
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
    if (stopAtBoundary && atBoundary()) {
      return i;
    }
    while (i < end) {
      if (payloadLeft > 0) {
        int n = (int) Math.min(payloadLeft, end - i);
        i += n;
        payloadLeft -= n;
      } else {
        header[headerLength++] = bytes.get(i++);
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
    return 2 + extended + ((header[1] & 0x80) != 0 ? 4 : 0);
  }

  private long payloadLength() {
    int len7 = header[1] & 0x7f;
    if (len7 < 126) {
      return len7;
    }
    int n = len7 == 126 ? 2 : 8;
    long length = 0;
    for (int k = 0; k < n; k++) {
      length = (length << 8) | (header[2 + k] & 0xff);
    }
    return length < 0 ? Long.MAX_VALUE : length; // a 64-bit length with the top bit set is invalid
  }

  /** An unmasked (server to client) close frame with {@code code} and up to 123 bytes of reason. */
  static byte[] closeFrame(int code, String reason) {
    byte[] text = reason.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    int n = Math.min(text.length, 123);
    while (n < text.length && n > 0 && (text[n] & 0xc0) == 0x80) {
      n--; // never cut a UTF-8 sequence in two
    }
    byte[] frame = new byte[4 + n];
    frame[0] = (byte) 0x88; // FIN, opcode close
    frame[1] = (byte) (2 + n);
    frame[2] = (byte) (code >>> 8);
    frame[3] = (byte) code;
    System.arraycopy(text, 0, frame, 4, n);
    return frame;
  }
}

package dev.affinity.internal.http;

import dev.affinity.internal.WebSocketFrameTracker;

/**
 * Finds the status code of the first close frame in one direction of a relayed WebSocket byte
 * stream (RFC 6455 sections 5.2 and 5.5.1), for the access log: frame headers are read byte by
 * byte, payloads passed over by count except the first two bytes of a close frame's (unmasked with
 * the frame's key when the frame is masked, as client frames are). Once a close frame was seen it
 * does nothing more. One instance per direction, used by one thread at a time. Not API.
 */
public final class CloseCodeSniffer {
  /** {@link #code()} before any close frame was seen. */
  public static final int NONE = -1;

  /** The code of a close frame without a status code (RFC 6455 section 7.4.1). */
  public static final int NO_STATUS = 1005;

  /** Reads the byte at an index of the caller's buffer, whatever its type. */
  @FunctionalInterface
  public interface ByteAt {
    /** The byte at {@code index}. */
    byte get(int index);
  }

  private final byte[] header = new byte[14];
  private int headerLength;
  private long payloadLeft;
  private boolean closeFrame;
  private int codeBytesSeen;
  private int codeHigh;
  private int code = NONE;

  /** Sees the bytes from {@code from} (inclusive) to {@code end} (exclusive). */
  public void advance(ByteAt bytes, int from, int end) {
    int i = from;
    while (i < end && code == NONE) {
      if (payloadLeft > 0) {
        if (closeFrame) {
          byte b = bytes.get(i++);
          payloadLeft--;
          if ((header[1] & 0x80) != 0) {
            b ^= header[headerSize() - 4 + codeBytesSeen]; // the masking key, byte 0 or 1
          }
          if (codeBytesSeen == 0) {
            codeHigh = b & 0xff;
            codeBytesSeen = 1;
          } else {
            code = (codeHigh << 8) | (b & 0xff);
          }
          continue;
        }
        long n = Math.min(payloadLeft, (long) end - i);
        payloadLeft -= n;
        i += (int) n;
        continue;
      }
      header[headerLength++] = bytes.get(i++);
      if (headerLength >= 2 && headerLength == headerSize()) {
        payloadLeft = payloadLength();
        headerLength = 0;
        closeFrame = (header[0] & 0x0f) == 0x8;
        if (closeFrame && payloadLeft < 2) {
          code = NO_STATUS; // an empty close frame; one byte would be a protocol error
        }
      }
    }
  }

  /** The first close frame's status code, {@link #NO_STATUS} for one without, or {@link #NONE}. */
  public int code() {
    return code;
  }

  private int headerSize() {
    return WebSocketFrameTracker.headerSize(header);
  }

  private long payloadLength() {
    return WebSocketFrameTracker.payloadLength(header);
  }
}

package dev.affinity.internal;

import java.nio.charset.StandardCharsets;

/**
 * Follows the frame headers of a relayed WebSocket byte stream (RFC 6455 section 5.2) to know where
 * frames end, without decoding payloads: header bytes are read one by one, payload bytes are passed
 * over by count. Both adapters use it on the backend leg of a tunnel, so that a close frame of the
 * proxy's own goes between two of the backend's frames, never inside one. One instance per
 * direction, used by one thread at a time.
 *
 * <p>The caller owns the loop over its own buffer type, so that no bytes are copied:
 *
 * <pre>{@code
 * while (i < end) {
 *   int n = tracker.passPayload(end - i);
 *   if (n > 0) i += n; else tracker.headerByte(buffer.get(i++));
 *   if (tracker.atBoundary()) ...   // a frame ends at i
 * }
 * }</pre>
 *
 * <p>Not API.
 */
public final class WebSocketFrameTracker {
  /** The longest close reason, in UTF-8 bytes, that fits a control frame's 125-byte payload. */
  public static final int MAX_CLOSE_REASON_BYTES = 123;

  private final byte[] header = new byte[14];
  private int headerLength;
  private long payloadLeft;

  /** Random access to the relayed bytes in the adapter's own buffer type, without copying. */
  @FunctionalInterface
  public interface Bytes {
    /** The byte at absolute index {@code index}. */
    byte get(int index);
  }

  /**
   * Passes over the bytes {@code [from, end)} of {@code bytes} (the buffer is not changed): the
   * loop both adapters run on the backend leg of a tunnel. With {@code stopAtBoundary}, stops at
   * the first frame boundary and returns its index ({@code from} if already at one); otherwise, or
   * when no frame ends in the bytes, passes them all and returns -1.
   *
   * <pre>{@code
   * tracker.advance(byteBuf::getByte, byteBuf.readerIndex(), byteBuf.writerIndex(), true);  // Netty
   * tracker.advance(byteBuffer::get, byteBuffer.position(), byteBuffer.limit(), true);      // Jetty
   * }</pre>
   */
  public int advance(Bytes bytes, int from, int end, boolean stopAtBoundary) {
    int i = from;
    if (stopAtBoundary && atBoundary()) {
      return i;
    }
    while (i < end) {
      int n = passPayload(end - i);
      if (n > 0) {
        i += n;
      } else {
        headerByte(bytes.get(i++));
      }
      if (stopAtBoundary && atBoundary()) {
        return i;
      }
    }
    return -1;
  }

  /** Whether the bytes seen so far end exactly where a frame ends (or nothing was seen yet). */
  public boolean atBoundary() {
    return headerLength == 0 && payloadLeft == 0;
  }

  /**
   * Passes over payload: of the next {@code available} bytes, returns how many belong to the
   * current frame's payload, and counts them as seen. Returns 0 when the next byte belongs to a
   * frame header, which must then be given to {@link #headerByte}.
   */
  public int passPayload(int available) {
    int n = (int) Math.min(payloadLeft, available);
    payloadLeft -= n;
    return n;
  }

  /** Sees the next byte of a frame header; call only when {@link #passPayload} returned 0. */
  public void headerByte(byte b) {
    header[headerLength++] = b;
    if (headerLength >= 2 && headerLength == headerSize()) {
      payloadLeft = payloadLength();
      headerLength = 0;
    }
  }

  private int headerSize() {
    return headerSize(header);
  }

  private long payloadLength() {
    return payloadLength(header);
  }

  /**
   * The size of a frame header (RFC 6455 section 5.2) whose first two bytes are {@code
   * header[0..1]}: 2, plus 2 or 8 for an extended length, plus 4 for a masking key.
   */
  public static int headerSize(byte[] header) {
    int len7 = header[1] & 0x7f;
    int extended = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    int mask = (header[1] & 0x80) != 0 ? 4 : 0;
    return 2 + extended + mask;
  }

  /** The payload length a complete frame header in {@code header} announces. */
  public static long payloadLength(byte[] header) {
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

  /**
   * An unmasked (server to client) close frame with {@code code} and {@code reason}, the reason cut
   * to at most {@value #MAX_CLOSE_REASON_BYTES} UTF-8 bytes, never inside a character: a close
   * reason that is not valid UTF-8 makes the client fail the connection (RFC 6455 section 8.1).
   */
  public static byte[] closeFrame(int code, String reason) {
    byte[] text = reason.getBytes(StandardCharsets.UTF_8);
    int n = Math.min(text.length, MAX_CLOSE_REASON_BYTES);
    while (n < text.length && n > 0 && (text[n] & 0xc0) == 0x80) {
      n--; // text[n] continues a character: cut before that character starts
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

package dev.affinity.testkit;

import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One open WebSocket of a {@link WsClient}. Received messages (whole messages, reassembled from
 * fragments) queue up until taken with {@link #next}; sends wait until the client accepted the
 * message.
 */
public interface WsSession extends AutoCloseable {
  /** How long {@link #nextText()} and friends wait by default: generous, for loaded machines. */
  Duration DEFAULT_WAIT = Duration.ofSeconds(30);

  /** Sends a text message and waits until the client has written it. */
  void sendText(String text);

  /** Sends a binary message and waits until the client has written it. */
  void sendBinary(byte[] data);

  /**
   * Takes the next received message.
   *
   * @throws AssertionError if none arrives within {@code timeout} or the session closed first
   */
  WsMessage next(Duration timeout);

  /** Takes the next message, which must be text, waiting {@link #DEFAULT_WAIT}. */
  default String nextText() {
    WsMessage m = next(DEFAULT_WAIT);
    if (m.text() == null) {
      throw new AssertionError("expected a text message, got " + m);
    }
    return m.text();
  }

  /** Takes the next message, which must be binary, waiting {@link #DEFAULT_WAIT}. */
  default byte[] nextBinary() {
    WsMessage m = next(DEFAULT_WAIT);
    if (m.binary() == null) {
      throw new AssertionError("expected a binary message, got " + m);
    }
    return m.binary();
  }

  /**
   * Waits until the session is closed by the peer or the connection drops; true if it did within
   * {@code timeout}.
   */
  boolean awaitClosed(Duration timeout);

  /**
   * The status code of the close as the client reports it (for example 1000, 1001, 1012; Jetty
   * reports 1006 for a connection dropped without a close frame), or -1 while open, after a local
   * close, or when the client reported an error instead.
   */
  int closeStatus();

  /** Whether the session is still open. */
  boolean isOpen();

  /** The subprotocol the server accepted, or null. */
  @Nullable String subprotocol();

  /**
   * The extensions the server accepted, as names (for example {@code permessage-deflate}).
   *
   * @throws UnsupportedOperationException if the client cannot tell (the JDK client negotiates no
   *     extensions)
   */
  List<String> extensions();

  /** Closes with 1000 (normal closure) without waiting for the peer. */
  @Override
  void close();
}

package dev.affinity.testkit;

import org.jspecify.annotations.Nullable;

/** A test client's WebSocket handshake did not end in 101. */
public final class HandshakeFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;

  HandshakeFailedException(String message, int status, @Nullable Throwable cause) {
    super(message + (status > 0 ? " (HTTP " + status + ")" : ""), cause);
    this.status = status;
  }

  /** The HTTP status the server answered, or -1 if the client saw none (connection failed). */
  public int status() {
    return status;
  }
}

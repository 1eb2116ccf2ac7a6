package dev.affinity.testkit;

/** A test client's WebSocket handshake did not end in 101. */
public final class HandshakeFailedException extends RuntimeException {
  private final int status;

  HandshakeFailedException(String message, int status, Throwable cause) {
    super(message + (status > 0 ? " (HTTP " + status + ")" : ""), cause);
    this.status = status;
  }

  /** The HTTP status the server answered, or -1 if the client saw none (connection failed). */
  public int status() {
    return status;
  }
}

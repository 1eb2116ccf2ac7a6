package dev.affinity.backend;

/**
 * Why the lifecycle machinery closes a live connection, with the WebSocket close code an adapter
 * sends when it can (RFC 6455 section 7.4 and the IANA registry).
 *
 * <p>An adapter that relays raw bytes after the handshake can send a close frame to the client only
 * at a frame boundary (the bundled Netty and Jetty adapters track the backend's frame headers to
 * find one); one that cannot sends none and closes both TCP connections instead. Either way the
 * client sees the connection end and reconnects, and the router sends it to the right backend.
 */
public enum CloseReason {
  /**
   * The backend was drained and its drain deadline passed: close code {@code 1001} (going away),
   * since the backend is leaving.
   */
  DRAIN_DEADLINE(1001, "backend draining"),
  /**
   * The membership changed and the connection's key now belongs to another backend (selective
   * re-homing): close code {@code 1012} (service restart), which tells clients to reconnect.
   */
  REHOME(1012, "rebalancing"),
  /**
   * The connection reached its maximum lifetime: close code {@code 1012} (service restart), which
   * tells clients to reconnect.
   */
  MAX_LIFETIME(1012, "connection lifetime reached");

  private final int webSocketCode;
  private final String phrase;

  CloseReason(int webSocketCode, String phrase) {
    this.webSocketCode = webSocketCode;
    this.phrase = phrase;
  }

  /** The WebSocket close status code to send to the client: {@code 1001} or {@code 1012}. */
  public int webSocketCode() {
    return webSocketCode;
  }

  /** A short close reason phrase (ASCII, well under the 123 bytes a close frame allows). */
  public String phrase() {
    return phrase;
  }
}

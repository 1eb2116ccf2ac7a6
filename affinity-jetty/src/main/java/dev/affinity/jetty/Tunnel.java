package dev.affinity.jetty;

import dev.affinity.RoutingDecision;
import dev.affinity.backend.Backend;
import java.net.SocketAddress;

/**
 * A live WebSocket tunnel between a client and a backend, as listed by {@link
 * AffinityHandler#tunnels()}.
 *
 * <pre>{@code
 * // Enforce a drain deadline: close what is still on ws-1.
 * for (Tunnel t : handler.tunnels()) {
 *   if (t.backend().id().equals("ws-1")) {
 *     t.close();
 *   }
 * }
 * }</pre>
 *
 * <p>Thread-safe. A closed tunnel stays closed and leaves {@link AffinityHandler#tunnels()}.
 */
public interface Tunnel {
  /** The backend the tunnel leads to (a failover candidate if the first choice failed). */
  Backend backend();

  /** The decision that routed the handshake. */
  RoutingDecision decision();

  /** The client's address as the TCP peer (the last proxy in front of us, if any). */
  SocketAddress clientAddress();

  /** Whether both legs are still open. */
  boolean isOpen();

  /**
   * Closes both legs at once and ends the connection's lease. Idempotent; never throws; safe from
   * any thread.
   */
  void close();

  /**
   * Ends the tunnel with a WebSocket close frame to the client carrying {@code webSocketCode} (for
   * example 1001 going away, 1012 service restart) and {@code reason} (cut to 123 bytes), then
   * closes both legs and the lease. The frame goes between two of the backend's frames: if the
   * backend is in the middle of one, the close waits for it to end, at most 5 seconds, then closes
   * at the TCP level. Idempotent; safe from any thread.
   *
   * @throws IllegalArgumentException unless {@code webSocketCode} is 1000..4999
   */
  void close(int webSocketCode, String reason);
}

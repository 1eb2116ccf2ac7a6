package dev.affinity.metrics;

import dev.affinity.RoutingDecision;
import dev.affinity.backend.Backend;
import java.time.Duration;

/**
 * Hears how each routed WebSocket handshake was answered and how each tunnel ended: what an access
 * log needs. Both server adapters take it ({@code AffinityProxyConfig.Builder.tunnelListener} on
 * Netty, {@code AffinityHandler.Builder.tunnelListener} on Jetty), so one implementation serves
 * either. Methods are called on I/O threads: return quickly and never block; an exception thrown is
 * logged and ignored.
 *
 * <pre>{@code
 * TunnelListener log = new TunnelListener() {
 *   public void tunnelClosed(RoutingDecision decision, Backend backend, Duration open,
 *       long bytesFromClient, long bytesFromBackend, int closeCode) {
 *     System.out.printf("%s %s %d%n", backend.id(), open, closeCode);
 *   }
 * };
 * }</pre>
 */
public interface TunnelListener {
  /** Hears nothing. */
  TunnelListener NONE = new TunnelListener() {};

  /**
   * A handshake the router decided on was answered: {@code status} is what the client got (101 when
   * a tunnel opened, the backend's own status when it refused the upgrade, 502/504 when no backend
   * answered, the decision's 401/503 when there was no backend to try), and {@code handshakeTime}
   * the time from the decision to that answer.
   */
  default void handshakeAnswered(RoutingDecision decision, int status, Duration handshakeTime) {}

  /**
   * A tunnel ended (its client connection closed).
   *
   * @param decision the decision that opened it
   * @param backend the backend it ran to (after a failover, not the decision's first choice)
   * @param open how long it was open, from the 101
   * @param bytesFromClient bytes relayed from the client to the backend
   * @param bytesFromBackend bytes relayed from the backend to the client
   * @param closeCode the status code of the first close frame either side sent or the proxy sent
   *     ({@code 1005} for a close frame without one), {@code 1006} if it ended without any
   */
  default void tunnelClosed(
      RoutingDecision decision,
      Backend backend,
      Duration open,
      long bytesFromClient,
      long bytesFromBackend,
      int closeCode) {}
}

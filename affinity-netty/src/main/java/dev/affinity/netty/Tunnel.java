package dev.affinity.netty;

import dev.affinity.RoutingDecision;
import dev.affinity.backend.Backend;
import io.netty.channel.Channel;
import java.net.SocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * A client connection proxied by {@link AffinityProxyHandler}, from the moment a backend is chosen
 * until both legs are closed: the same handle, with the same methods, as the Jetty adapter's {@code
 * dev.affinity.jetty.Tunnel}.
 *
 * <p>Two ways to it: {@link AffinityProxyServer#tunnels()} lists every open tunnel of a server
 * (after the backend's 101), and the client channel's attribute {@link AffinityProxyHandler#TUNNEL}
 * holds the one of that channel (from backend selection on).
 *
 * <pre>{@code
 * // Enforce a drain deadline: close what is still on ws-1.
 * for (Tunnel t : server.tunnels()) {
 *   if (t.backend().id().equals("ws-1")) {
 *     t.close(1001, "going away");
 *   }
 * }
 * }</pre>
 *
 * <p>Closing it from any thread is safe: the work runs on the channel's event loop, and the
 * backend's {@link dev.affinity.backend.ConnectionLease} is closed exactly once, when the backend
 * leg closes.
 */
public interface Tunnel {
  /** The routing decision this connection was made for. */
  RoutingDecision decision();

  /** The backend the connection is to, or is being tried (after failover, not the decided one). */
  Backend backend();

  /** The client's address as the TCP peer (the last proxy in front of us, if any). */
  SocketAddress clientAddress();

  /** Whether the backend answered 101 and bytes are being relayed, both legs open. */
  boolean isOpen();

  /**
   * Closes both legs in an orderly way: bytes already accepted are flushed first, then each leg is
   * closed. Idempotent; never throws; safe from any thread.
   */
  void close();

  /**
   * Ends the tunnel with a WebSocket close frame to the client carrying {@code webSocketCode} (for
   * example 1001 going away, 1012 service restart) and {@code reason} (cut to 123 bytes), then
   * closes both legs. The frame goes between two of the backend's frames: if the backend is in the
   * middle of one, the close waits until it ends, for at most 5 seconds, then closes at the TCP
   * level. Before the 101 it is {@link #close()}. Idempotent; safe from any thread.
   *
   * @throws IllegalArgumentException unless {@code webSocketCode} is 1000..4999 (not 1005, 1006 or
   *     1015, which a close frame may not carry)
   */
  void close(int webSocketCode, String reason);

  /** The client's channel. Netty only. */
  Channel clientChannel();

  /** The backend leg, or null while none is connected. Netty only. */
  @Nullable Channel backendChannel();

  /** Closes both legs at once, dropping anything not yet written. Safe from any thread. */
  void abort();
}

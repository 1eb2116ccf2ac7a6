package dev.affinity.netty;

import dev.affinity.RoutingDecision;
import dev.affinity.backend.Backend;
import io.netty.channel.Channel;
import org.jspecify.annotations.Nullable;

/**
 * One client connection being proxied by {@link AffinityProxyHandler}: from the moment a backend is
 * chosen until both legs are closed. Found in the client channel's attribute {@link
 * AffinityProxyHandler#CONNECTION}. Closing it from any thread is safe: the work runs on the
 * channel's event loop, and the backend's {@link dev.affinity.backend.ConnectionLease} is closed
 * exactly once, when the backend leg closes.
 */
public interface ProxiedConnection {
  /** The routing decision this connection was made for. */
  RoutingDecision decision();

  /** The backend the connection is to, or is being tried (after failover, not the decided one). */
  Backend backend();

  /** The client's channel. */
  Channel clientChannel();

  /** The backend leg, or null while none is connected. */
  @Nullable Channel backendChannel();

  /** Whether the backend answered 101 and bytes are being relayed. */
  boolean isTunnelOpen();

  /**
   * Closes both legs in an orderly way: bytes already accepted are flushed first, then each leg is
   * closed. Idempotent; safe from any thread.
   */
  void close();

  /**
   * Ends the tunnel with a WebSocket close frame to the client carrying {@code webSocketCode} (for
   * example 1001 going away, 1012 service restart) and {@code reason} (cut to 123 bytes), then
   * closes both legs. The frame goes between two of the backend's frames: if the backend is in the
   * middle of one, the close waits until it ends, for at most 5 seconds, then closes at the TCP
   * level. Before the 101 it is {@link #close()}. Idempotent; safe from any thread.
   */
  void close(int webSocketCode, String reason);

  /** Closes both legs at once, dropping anything not yet written. Safe from any thread. */
  void abort();
}

package dev.affinity.jetty;

import dev.affinity.RoutingDecision;
import dev.affinity.backend.Backend;
import dev.affinity.backend.ConnectionLease;
import java.lang.System.Logger.Level;
import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The two legs of a tunnel and its lease. {@link #close(Throwable)} is the one way a tunnel ends —
 * on error, idle timeout, both directions at end of stream, or a call from outside — so the lease
 * is closed exactly once.
 */
final class LiveTunnel implements Tunnel {
  private static final System.Logger LOG = System.getLogger(AffinityHandler.class.getName());

  private final AffinityHandler handler;
  private final RoutingDecision decision;
  private final ConnectionLease lease;
  private final SocketAddress client;
  private final ClientConnection clientLeg;
  private final BackendConnection backendLeg;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicInteger endedDirections = new AtomicInteger();

  LiveTunnel(
      AffinityHandler handler,
      RoutingDecision decision,
      ConnectionLease lease,
      SocketAddress client,
      ClientConnection clientLeg,
      BackendConnection backendLeg) {
    this.handler = handler;
    this.decision = decision;
    this.lease = lease;
    this.client = client;
    this.clientLeg = clientLeg;
    this.backendLeg = backendLeg;
    clientLeg.join(this, backendLeg);
    backendLeg.join(this, clientLeg);
  }

  /** Called once the client's connection is ours (the 101 is on the wire): start both pumps. */
  void start() {
    if (!isOpen()) {
      return;
    }
    clientLeg.getEndPoint().setIdleTimeout(handler.tunnelIdleTimeout().toMillis());
    backendLeg.getEndPoint().setIdleTimeout(handler.tunnelIdleTimeout().toMillis());
    backendLeg.startPump(backendLeg.takeLeftover());
    clientLeg.startPump(clientLeg.takeLeftover());
  }

  /**
   * One direction saw end of stream: half-close toward {@code to}, and close everything once both
   * directions have ended.
   */
  void inputEnded(TunnelEnd to) {
    to.getEndPoint().shutdownOutput();
    if (endedDirections.incrementAndGet() == 2) {
      close(null);
    }
  }

  void close(@Nullable Throwable cause) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      clientLeg.getEndPoint().close(cause);
      backendLeg.getEndPoint().close(cause);
    } finally {
      lease.close();
      handler.closed(this);
    }
    if (LOG.isLoggable(Level.DEBUG)) {
      LOG.log(
          Level.DEBUG,
          "tunnel {0} <-> {1} closed{2}",
          client,
          lease.backend().id(),
          cause == null ? "" : ": " + cause);
    }
  }

  @Override
  public void close() {
    close(null);
  }

  @Override
  public boolean isOpen() {
    return !closed.get();
  }

  @Override
  public Backend backend() {
    return lease.backend();
  }

  @Override
  public RoutingDecision decision() {
    return decision;
  }

  @Override
  public SocketAddress clientAddress() {
    return client;
  }

  @Override
  public String toString() {
    return "Tunnel{" + client + " <-> " + lease.backend().id() + (isOpen() ? "" : ", closed") + "}";
  }
}

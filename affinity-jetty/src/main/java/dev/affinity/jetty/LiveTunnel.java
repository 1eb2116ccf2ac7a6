package dev.affinity.jetty;

import static java.util.Objects.requireNonNull;

import dev.affinity.RoutingDecision;
import dev.affinity.backend.Backend;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.internal.http.AdapterSettings;
import dev.affinity.internal.http.CloseFrameWait;
import dev.affinity.internal.http.TunnelAccounting;
import dev.affinity.strategy.LearnedStore;
import java.lang.System.Logger.Level;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.util.thread.Scheduler;
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
  private final LearnedStore.Hold learned;
  private final SocketAddress client;
  private final ClientConnection clientLeg;
  private final BackendConnection backendLeg;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final TunnelAccounting accounting;
  private final AtomicInteger endedDirections = new AtomicInteger();
  private volatile boolean started;
  private final CloseFrameWait closeWait = new CloseFrameWait();

  LiveTunnel(
      AffinityHandler handler,
      RoutingDecision decision,
      ConnectionLease lease,
      LearnedStore.Hold learned,
      SocketAddress client,
      ClientConnection clientLeg,
      BackendConnection backendLeg,
      TunnelAccounting accounting) {
    this.accounting = accounting;
    this.handler = handler;
    this.decision = decision;
    this.lease = lease;
    this.learned = learned;
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
    started = true;
    clientLeg.getEndPoint().setIdleTimeout(handler.idleTimeout().toMillis());
    backendLeg.getEndPoint().setIdleTimeout(handler.idleTimeout().toMillis());
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
    closeWait.cancel();
    try {
      clientLeg.getEndPoint().close(cause);
      backendLeg.getEndPoint().close(cause);
    } finally {
      lease.close();
      learned.close();
      handler.closed(this);
      if (accounting.ended()) {
        TunnelAccounting.notify(
            () ->
                handler
                    .tunnelListener()
                    .tunnelClosed(
                        decision,
                        lease.backend(),
                        accounting.openFor(),
                        accounting.bytesFromClient(),
                        accounting.bytesFromBackend(),
                        accounting.closeCode()));
      }
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

  /** {@code bytes} (position to limit), read by leg {@code from}, are about to be relayed. */
  void relayed(TunnelEnd from, ByteBuffer bytes) {
    if (from == clientLeg) {
      accounting.fromClient(bytes::get, bytes.position(), bytes.limit());
    } else {
      accounting.fromBackend(bytes::get, bytes.position(), bytes.limit());
    }
  }

  @Override
  public void close(int webSocketCode, String reason) {
    AdapterSettings.closeArguments(webSocketCode, reason);
    if (!isOpen()) {
      return;
    }
    if (!started) {
      close(); // no 101 on the wire yet: nothing to put a frame after
      return;
    }
    // The backend leg sends the frame at the end of the backend's current frame; one stuck
    // mid-frame is cut at the shared deadline. The first close with a code wins.
    if (!closeWait.begin(
        webSocketCode,
        reason,
        (task, millis) -> {
          Scheduler.Task t = handler.scheduler().schedule(task, millis, TimeUnit.MILLISECONDS);
          return t::cancel;
        },
        () -> close(new TimeoutException("backend frame did not end in time")))) {
      return;
    }
    if (!isOpen()) {
      closeWait.cancel(); // closed while the deadline was being scheduled
      return;
    }
    accounting.proxyClosed(webSocketCode);
    backendLeg.closeWithFrame(requireNonNull(closeWait.frame(), "frame"));
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

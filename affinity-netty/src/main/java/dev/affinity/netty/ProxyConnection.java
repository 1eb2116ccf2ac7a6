package dev.affinity.netty;

import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.backend.Backend;
import dev.affinity.backend.ConnectionCloser;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.internal.http.AdapterSettings;
import dev.affinity.internal.http.TunnelAccounting;
import dev.affinity.strategy.LearnedStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.lang.System.Logger.Level;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One proxied client connection from backend selection until both legs are closed: the {@link
 * Tunnel} handle of the client channel (its {@link AffinityProxyHandler#TUNNEL} attribute, and in
 * {@link AffinityProxyServer#tunnels()} once open). Three parts do the work, one after the other:
 * {@link BackendConnector} connects (with failover), a {@link BackendHandshake} per connected
 * backend forwards the head and reads the answer, and after a 101 the {@link LiveTunnel} relays.
 * This class keeps what spans them: the phase, the backend and its lease, the bytes the client
 * pipelined before the answer, the client's error answers, and the handle's methods, which hop onto
 * the client's event loop (the backend leg shares it) and go to whichever part is current.
 */
final class ProxyConnection implements Tunnel {
  private static final System.Logger LOG = System.getLogger(ProxyConnection.class.getName());

  /** The most bytes a client may pipeline behind its upgrade request: 64 KiB. */
  static final int MAX_EARLY_BYTES = 64 * 1024;

  private enum Phase {
    CONNECTING,
    HANDSHAKING,
    TUNNEL,
    CLOSED
  }

  private final ChannelHandlerContext clientCtx;
  private final Channel client;
  private final AffinityProxyConfig config;
  private final RoutingDecision decision;
  private final HttpRequest head;
  private final Set<Tunnel> openTunnels;
  private final TunnelAccounting accounting;
  private final BackendConnector connector;
  private Phase phase = Phase.CONNECTING;
  private volatile Backend backend;
  private volatile @Nullable Channel backendChannel;
  private @Nullable BackendHandshake handshake;
  private volatile @Nullable LiveTunnel live;
  private @Nullable CompositeByteBuf early;

  ProxyConnection(
      ChannelHandlerContext clientCtx,
      Router router,
      AffinityProxyConfig config,
      RoutingDecision decision,
      HttpRequest head,
      Set<Tunnel> openTunnels,
      TunnelAccounting accounting) {
    this.openTunnels = openTunnels;
    this.accounting = accounting;
    this.clientCtx = clientCtx;
    this.client = clientCtx.channel();
    this.config = config;
    this.decision = decision;
    this.head = head;
    this.backend = decision.backend();
    this.connector = new BackendConnector(this, router, config);
    client.closeFuture().addListener(closed -> discardPending());
  }

  /**
   * Bytes the client sent behind its upgrade request, before any answer: relayed to the backend
   * after its 101, dropped otherwise. More than {@link #MAX_EARLY_BYTES} aborts the connection.
   */
  void clientEarlyBytes(ByteBuf bytes) {
    if (phase == Phase.CLOSED || !client.isActive()) {
      bytes.release();
      return;
    }
    CompositeByteBuf e = early;
    if (e == null) {
      e = client.alloc().compositeBuffer();
      early = e;
    }
    e.addComponent(true, bytes);
    if (e.readableBytes() > MAX_EARLY_BYTES) {
      LOG.log(Level.DEBUG, "client pipelined more than {0} bytes; closing", MAX_EARLY_BYTES);
      abort();
    }
  }

  /** The client is gone: what waits for an answer is released. */
  private void discardPending() {
    CompositeByteBuf e = early;
    if (e != null) {
      early = null;
      e.release();
    }
    BackendHandshake hs = handshake;
    if (hs != null) {
      hs.cancel();
    }
  }

  /** Connects the decided backend (failing over to the decision's candidates). */
  void start() {
    connector.connect(decision.backend());
  }

  ChannelHandlerContext clientContext() {
    return clientCtx;
  }

  HttpRequest head() {
    return head;
  }

  /** Whether the connection ended before any tunnel: a connect that completes now is dropped. */
  boolean isClosed() {
    return phase == Phase.CLOSED;
  }

  /** The connector is trying {@code target} now. */
  void connecting(Backend target) {
    backend = target;
  }

  /**
   * {@code ch} is connected to {@code target}: its lease is taken (closed when the leg closes, and
   * able to close this connection for the router's lifecycle) and {@code hs} sends the head.
   */
  void connected(Backend target, Channel ch, BackendHandshake hs) {
    backendChannel = ch;
    // Lifecycle closes (drain deadline, re-homing, max lifetime) come from another thread.
    ConnectionCloser closer = reason -> close(reason.webSocketCode(), reason.phrase());
    ConnectionLease lease = decision.openLease(target, closer);
    ch.closeFuture().addListener(closed -> backendClosed(lease, hs));
    phase = Phase.HANDSHAKING;
    handshake = hs;
    hs.start(ch);
  }

  private void backendClosed(ConnectionLease lease, BackendHandshake hs) {
    lease.close();
    LiveTunnel t = live;
    if (t != null) {
      t.close();
    } else if (phase == Phase.HANDSHAKING && handshake == hs) {
      hs.backendClosed();
    }
  }

  /** Reports a failed attempt on {@code target} without failing over (an answer may be lost). */
  void reportFailure(Backend target, Throwable cause) {
    connector.report(target, cause);
  }

  /** The attempt on {@code target} failed before the client heard anything: next candidate. */
  void failover(Backend target, Throwable cause) {
    handshake = null;
    backendChannel = null;
    phase = Phase.CONNECTING;
    connector.failed(target, cause);
  }

  /** The handshake relayed the backend's own answer and closes the legs itself. */
  void handshakeEnded() {
    handshake = null;
    phase = Phase.CLOSED;
  }

  /**
   * The backend answered 101 on {@code backendLeg} ({@code switching} carries our cookie by now):
   * the {@link LiveTunnel} takes over, holding {@code learnedHold} until it ends.
   */
  void upgraded(HttpResponse switching, Channel backendLeg, LearnedStore.Hold learnedHold) {
    phase = Phase.TUNNEL;
    handshake = null;
    LiveTunnel t =
        new LiveTunnel(
            this, clientCtx, backendLeg, backend, config, accounting, openTunnels, learnedHold);
    live = t;
    CompositeByteBuf e = early;
    early = null;
    t.open(switching, e);
  }

  /** The client was answered {@code status}: the listener hears it once. */
  void answered(int status) {
    Duration took = accounting.answered();
    if (took != null) {
      TunnelAccounting.notify(
          () -> config.tunnelListener().handshakeAnswered(decision, status, took));
    }
  }

  /** Ends the connection before any tunnel with an error answer of ours, closing the backend. */
  void failClient(HttpResponseStatus status, String reason) {
    answered(status.code());
    phase = Phase.CLOSED;
    cancelHandshake();
    Channel be = backendChannel;
    if (be != null) {
      be.close();
    }
    if (client.isActive()) {
      LOG.log(Level.DEBUG, "answering {0} to {1}: {2}", status.code(), client, reason);
      HttpErrors.send(clientCtx, status, reason);
    }
  }

  private void cancelHandshake() {
    BackendHandshake hs = handshake;
    if (hs != null) {
      handshake = null;
      hs.cancel();
    }
  }

  /** The client channel went inactive before the tunnel was set up. */
  void clientInactive() {
    if (phase != Phase.TUNNEL && phase != Phase.CLOSED) {
      abort();
    }
  }

  @Override
  public void close() {
    if (!client.eventLoop().inEventLoop()) {
      client.eventLoop().execute(this::close);
      return;
    }
    LiveTunnel t = live;
    if (t != null) {
      t.close();
      return;
    }
    if (phase == Phase.CLOSED) {
      return;
    }
    phase = Phase.CLOSED;
    cancelHandshake();
    LiveTunnel.flushAndClose(client);
    LiveTunnel.flushAndClose(backendChannel);
  }

  @Override
  public void close(int webSocketCode, String reason) {
    AdapterSettings.closeArguments(webSocketCode, reason);
    if (!client.eventLoop().inEventLoop()) {
      client.eventLoop().execute(() -> close(webSocketCode, reason));
      return;
    }
    LiveTunnel t = live;
    if (t != null) {
      t.close(webSocketCode, reason);
    } else {
      close();
    }
  }

  @Override
  public void abort() {
    if (!client.eventLoop().inEventLoop()) {
      client.eventLoop().execute(this::abort);
      return;
    }
    LiveTunnel t = live;
    if (t != null) {
      t.abort();
      return;
    }
    phase = Phase.CLOSED;
    cancelHandshake();
    client.close();
    Channel be = backendChannel;
    if (be != null) {
      be.close();
    }
  }

  @Override
  public RoutingDecision decision() {
    return decision;
  }

  @Override
  public Backend backend() {
    return backend;
  }

  @Override
  public Channel clientChannel() {
    return client;
  }

  @Override
  public @Nullable Channel backendChannel() {
    return backendChannel;
  }

  @Override
  public SocketAddress clientAddress() {
    return client.remoteAddress();
  }

  @Override
  public boolean isOpen() {
    LiveTunnel t = live;
    return t != null && t.isOpen();
  }

  @Override
  public String toString() {
    return "Tunnel{" + client.remoteAddress() + " -> " + backend.id() + "}";
  }
}

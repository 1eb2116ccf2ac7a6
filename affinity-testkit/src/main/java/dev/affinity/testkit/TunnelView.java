package dev.affinity.testkit;

import static java.util.Objects.requireNonNull;

import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * An adapter's live tunnel as the shared scenarios see it: which backend it is on, whether it is
 * open, and closing it with or without a WebSocket close code. {@link ProxyHandle#tunnels()}
 * returns one view per tunnel; two views are equal when they show the same adapter tunnel.
 */
public final class TunnelView {
  /** How an adapter closes its tunnel with a WebSocket close code. */
  @FunctionalInterface
  public interface CodeCloser {
    /**
     * Closes with {@code code} and {@code reason}, as the adapter's {@code Tunnel.close(int,
     * String)}.
     *
     * @throws IllegalArgumentException if the adapter refuses the code
     */
    void close(int code, String reason);
  }

  private final Object tunnel;
  private final Supplier<String> backendId;
  private final BooleanSupplier open;
  private final Runnable close;
  private final CodeCloser closeWithCode;

  private TunnelView(
      Object tunnel,
      Supplier<String> backendId,
      BooleanSupplier open,
      Runnable close,
      CodeCloser closeWithCode) {
    this.tunnel = tunnel;
    this.backendId = backendId;
    this.open = open;
    this.close = close;
    this.closeWithCode = closeWithCode;
  }

  /**
   * A view of {@code tunnel} (the adapter's own object, which decides equality) through its
   * methods.
   */
  public static TunnelView of(
      Object tunnel,
      Supplier<String> backendId,
      BooleanSupplier open,
      Runnable close,
      CodeCloser closeWithCode) {
    return new TunnelView(
        requireNonNull(tunnel, "tunnel"),
        requireNonNull(backendId, "backendId"),
        requireNonNull(open, "open"),
        requireNonNull(close, "close"),
        requireNonNull(closeWithCode, "closeWithCode"));
  }

  /** The id of the backend the tunnel is to. */
  public String backendId() {
    return backendId.get();
  }

  /** Whether both legs are open and bytes are relayed. */
  public boolean isOpen() {
    return open.getAsBoolean();
  }

  /** Closes both legs in an orderly way (the adapter's {@code Tunnel.close()}). */
  public void close() {
    close.run();
  }

  /**
   * Ends the tunnel with a close frame carrying {@code code} and {@code reason}.
   *
   * @throws IllegalArgumentException if the adapter refuses the code
   */
  public void close(int code, String reason) {
    closeWithCode.close(code, reason);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TunnelView && ((TunnelView) o).tunnel == tunnel;
  }

  @Override
  public int hashCode() {
    return System.identityHashCode(tunnel);
  }

  @Override
  public String toString() {
    return "TunnelView{" + tunnel + "}";
  }
}

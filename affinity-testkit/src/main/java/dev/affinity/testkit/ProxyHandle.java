package dev.affinity.testkit;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * A running proxy under test, as returned by {@link AdapterScenarios#startProxy}: where it listens,
 * and how to stop it.
 */
public interface ProxyHandle extends AutoCloseable {
  /** The port on 127.0.0.1 the proxy accepts WebSocket clients on. */
  int port();

  /**
   * Exceptions that escaped the adapter into the server framework (for Netty: reached the end of a
   * pipeline; for Jetty: reached the connector), so scenarios can assert there were none. The
   * default reports none; adapters should capture them.
   */
  default List<Throwable> escapedExceptions() {
    return List.of();
  }

  /**
   * The proxy's open tunnels (after the backend's 101), through the adapter's own live-tunnel
   * handle ({@code server.tunnels()} on both adapters). Adapters must provide it; the default
   * refuses.
   *
   * @throws UnsupportedOperationException if the adapter does not expose its tunnels
   */
  default List<TunnelView> tunnels() {
    throw new UnsupportedOperationException("tunnels: not exposed by " + getClass().getName());
  }

  /** Stops the proxy and waits until its port is released. */
  @Override
  void close();

  /**
   * A handle that listens on {@code port} and stops with {@code close}, with no escape capture and
   * no tunnel list (for scenario classes that need neither).
   */
  static ProxyHandle of(IntSupplier port, Runnable close) {
    return of(
        port,
        List.of(),
        () -> {
          throw new UnsupportedOperationException("tunnels: not exposed by this handle");
        },
        close);
  }

  /**
   * A handle that listens on {@code port}, records escaped exceptions in {@code escaped}, lists its
   * tunnels through {@code tunnels}, and stops with {@code close}.
   */
  static ProxyHandle of(
      IntSupplier port,
      List<Throwable> escaped,
      Supplier<List<TunnelView>> tunnels,
      Runnable close) {
    requireNonNull(port, "port");
    requireNonNull(escaped, "escaped");
    requireNonNull(tunnels, "tunnels");
    requireNonNull(close, "close");
    return new ProxyHandle() {
      @Override
      public int port() {
        return port.getAsInt();
      }

      @Override
      public List<Throwable> escapedExceptions() {
        return escaped;
      }

      @Override
      public List<TunnelView> tunnels() {
        return tunnels.get();
      }

      @Override
      public void close() {
        close.run();
      }
    };
  }
}

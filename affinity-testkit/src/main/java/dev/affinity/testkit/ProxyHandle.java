package dev.affinity.testkit;

import java.util.List;

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
}

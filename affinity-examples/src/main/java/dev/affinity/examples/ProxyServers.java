package dev.affinity.examples;

import dev.affinity.Router;
import java.net.InetSocketAddress;

/** Starts the proxy on the adapter {@code --server} names. */
final class ProxyServers {
  private ProxyServers() {}

  /**
   * Binds {@code listen} and serves {@code router}'s decisions.
   *
   * @throws RuntimeException if the port cannot be bound
   */
  static ProxyServer start(
      ServerKind kind, Router router, InetSocketAddress listen, ProxyTimeouts timeouts) {
    throw new UnsupportedOperationException("adapter " + kind + " is not wired yet");
  }
}

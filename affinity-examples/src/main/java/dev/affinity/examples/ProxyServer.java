package dev.affinity.examples;

import java.net.InetSocketAddress;

/** A running proxy listener on one of the adapters. */
interface ProxyServer extends AutoCloseable {
  /** The bound address (the real port when the listen port was 0). */
  InetSocketAddress address();

  /**
   * Stops accepting, gives open tunnels up to the shutdown timeout to finish, then closes what
   * remains and frees the threads.
   */
  @Override
  void close();
}

package dev.affinity.proxy;

import java.net.InetSocketAddress;

/** A running proxy listener on one of the adapters. */
interface ProxyServer extends AutoCloseable {
  /** The bound address (the real port when the listen port was 0). */
  InetSocketAddress address();

  /** The I/O transport the listener runs on, as its startup line names it: epoll, io_uring, nio. */
  String transport();

  /**
   * Stops accepting, gives open tunnels up to the shutdown timeout to finish, then closes what
   * remains and frees the threads.
   */
  @Override
  void close();
}

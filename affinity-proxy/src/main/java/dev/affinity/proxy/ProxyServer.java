package dev.affinity.proxy;

import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetSocketAddress;

/** A running proxy listener on one of the adapters. */
interface ProxyServer extends AutoCloseable {
  /** The bound address (the real port when the listen port was 0). */
  InetSocketAddress address();

  /** The I/O transport the listener runs on, as its startup line names it: epoll, io_uring, nio. */
  String transport();

  /**
   * Binds the adapter's transport meters where Micrometer has a binder for them: Jetty's
   * connections (count, bytes, messages) and thread pool; on Netty, its buffer allocator.
   */
  void bindMeters(MeterRegistry registry);

  /** Whether the listener serves TLS ({@code wss://}). */
  boolean secure();

  /**
   * Re-reads the TLS certificate and key files if they changed; false without TLS or without a
   * change.
   *
   * @throws IllegalArgumentException naming the file and the reason; the old pair is kept
   */
  boolean reloadTls();

  /**
   * Stops accepting, gives open tunnels up to the shutdown timeout to finish, then closes what
   * remains and frees the threads.
   */
  @Override
  void close();
}

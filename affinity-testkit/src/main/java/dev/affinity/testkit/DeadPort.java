package dev.affinity.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;

/**
 * A port on 127.0.0.1 that refuses connections for as long as this object is open: it is bound (so
 * no other process can listen on it) but never listens. Safer than a stopped server's port, which a
 * neighbour on a busy machine may bind again.
 */
public final class DeadPort implements AutoCloseable {
  private final SocketChannel reserved;

  private DeadPort(SocketChannel reserved) {
    this.reserved = reserved;
  }

  /** Reserves an ephemeral port. */
  public static DeadPort reserve() {
    try {
      SocketChannel ch = SocketChannel.open();
      ch.bind(new InetSocketAddress("127.0.0.1", 0));
      return new DeadPort(ch);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot reserve a port", e);
    }
  }

  /** The reserved port. */
  public int port() {
    try {
      return ((InetSocketAddress) reserved.getLocalAddress()).getPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      reserved.close();
    } catch (IOException e) {
      // released anyway
    }
  }
}

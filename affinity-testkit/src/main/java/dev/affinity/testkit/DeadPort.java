package dev.affinity.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import org.jspecify.annotations.Nullable;

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
    DeadPort p = reserve(0);
    if (p == null) {
      throw new UncheckedIOException(new IOException("cannot reserve an ephemeral port"));
    }
    return p;
  }

  /** Reserves {@code port}, or returns null if something else holds it. */
  static @Nullable DeadPort reserve(int port) {
    try {
      SocketChannel ch = SocketChannel.open();
      ch.setOption(StandardSocketOptions.SO_REUSEADDR, true); // past our own TIME_WAITs
      try {
        ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      } catch (IOException e) {
        ch.close();
        return null;
      }
      return new DeadPort(ch);
    } catch (IOException e) {
      return null;
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

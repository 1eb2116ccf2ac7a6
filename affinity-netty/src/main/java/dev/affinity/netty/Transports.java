package dev.affinity.netty;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import org.jspecify.annotations.Nullable;

/**
 * Picks the transport that can run: the requested one, or the next one down (io_uring → epoll →
 * NIO) with the reason the requested one could not load. Native classes are touched only when their
 * library loaded.
 */
final class Transports {
  private Transports() {}

  /** The transport that runs and, when it is not the requested one, why. */
  static final class Selection {
    final NettyTransport transport;
    final @Nullable String fallbackReason;

    Selection(NettyTransport transport, @Nullable String fallbackReason) {
      this.transport = transport;
      this.fallbackReason = fallbackReason;
    }

    /** "epoll", or "nio (epoll unavailable: ...)" when the requested transport fell back. */
    String describe() {
      return fallbackReason == null
          ? transport.displayName()
          : transport.displayName() + " (" + fallbackReason + ")";
    }
  }

  static Selection select(NettyTransport requested) {
    return select(
        requested,
        requested == NettyTransport.IO_URING ? ioUringUnavailability() : null,
        requested == NettyTransport.NIO ? null : epollUnavailability());
  }

  /**
   * The fallback rule, given why io_uring and epoll cannot load (null: they can). Only the causes
   * of the requested transport and those below it are consulted.
   */
  static Selection select(
      NettyTransport requested, @Nullable Throwable ioUringCause, @Nullable Throwable epollCause) {
    StringBuilder why = new StringBuilder();
    if (requested == NettyTransport.IO_URING) {
      if (ioUringCause == null) {
        return new Selection(NettyTransport.IO_URING, null);
      }
      why.append("io_uring unavailable: ").append(describe(ioUringCause));
    }
    if (requested != NettyTransport.NIO) {
      if (epollCause == null) {
        return new Selection(NettyTransport.EPOLL, why.length() == 0 ? null : why.toString());
      }
      if (why.length() > 0) {
        why.append("; ");
      }
      why.append("epoll unavailable: ").append(describe(epollCause));
    }
    return new Selection(NettyTransport.NIO, why.length() == 0 ? null : why.toString());
  }

  /** Null when epoll's native library loaded, else why it did not. */
  static @Nullable Throwable epollUnavailability() {
    try {
      return Epoll.isAvailable() ? null : Epoll.unavailabilityCause();
    } catch (LinkageError e) {
      return e;
    }
  }

  /** Null when io_uring's native library loaded and the kernel allows it, else why not. */
  static @Nullable Throwable ioUringUnavailability() {
    try {
      return IoUring.isAvailable() ? null : IoUring.unavailabilityCause();
    } catch (LinkageError e) {
      return e;
    }
  }

  private static String describe(Throwable cause) {
    // The root cause names the missing library or the refused system call.
    Throwable root = cause;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage();
    return root.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  static IoHandlerFactory ioHandlerFactory(NettyTransport transport) {
    switch (transport) {
      case IO_URING:
        return IoUringIoHandler.newFactory();
      case EPOLL:
        return EpollIoHandler.newFactory();
      case NIO:
      default:
        return NioIoHandler.newFactory();
    }
  }

  static Class<? extends ServerChannel> serverChannel(NettyTransport transport) {
    switch (transport) {
      case IO_URING:
        return IoUringServerSocketChannel.class;
      case EPOLL:
        return EpollServerSocketChannel.class;
      case NIO:
      default:
        return NioServerSocketChannel.class;
    }
  }

  /** Backend channels of the same transport as {@code client}, so they share its event loop. */
  static ChannelFactory<Channel> socketChannelFactory(Channel client) {
    String name = client.getClass().getName();
    if (name.startsWith("io.netty.channel.epoll.")) {
      return EpollSocketChannel::new;
    }
    if (name.startsWith("io.netty.channel.uring.")) {
      return IoUringSocketChannel::new;
    }
    return NioSocketChannel::new;
  }
}

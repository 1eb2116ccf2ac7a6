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

/** NIO everywhere; epoll when its native library loads. Epoll classes are touched only then. */
final class Transports {
  private Transports() {}

  static boolean epoll() {
    try {
      return Epoll.isAvailable();
    } catch (LinkageError e) {
      return false;
    }
  }

  static IoHandlerFactory ioHandlerFactory(boolean epoll) {
    return epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
  }

  static Class<? extends ServerChannel> serverChannel(boolean epoll) {
    return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  /** Backend channels of the same transport as {@code client}, so they share its event loop. */
  static ChannelFactory<Channel> socketChannelFactory(Channel client) {
    if (client.getClass().getName().startsWith("io.netty.channel.epoll.")) {
      return EpollSocketChannel::new;
    }
    return NioSocketChannel::new;
  }
}

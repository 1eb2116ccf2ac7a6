package dev.affinity.loadtest;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The few pieces of RFC 6455 the benchmark tools need, written straight onto Netty buffers: the
 * upgrade request and response, frame headers, and unmasking. Frames are built and parsed in place,
 * with no codec objects per message, so that the tools cost little CPU next to the proxy they
 * measure on the same cores.
 */
final class WsWire {
  private WsWire() {}

  /** The sample key of RFC 6455, section 1.3, and its accept value. */
  static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";

  static final String ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
  static final int OP_CONTINUATION = 0x0;
  static final int OP_TEXT = 0x1;
  static final int OP_BINARY = 0x2;
  static final int OP_CLOSE = 0x8;
  static final int OP_PING = 0x9;
  static final int OP_PONG = 0xA;

  /** The largest request or response head accepted, in bytes. */
  static final int MAX_HEAD = 16 * 1024;

  /** Size of a frame header for a payload of {@code len} bytes, with or without a mask key. */
  static int headerSize(long len, boolean masked) {
    int n = len < 126 ? 2 : len <= 0xFFFF ? 4 : 10;
    return masked ? n + 4 : n;
  }

  /**
   * Writes a final frame's header. A masked (client) header gets the all-zero mask key, which RFC
   * 6455 allows and which leaves the payload bytes as they are: nothing to XOR on either side.
   */
  static void writeHeader(ByteBuf out, int opcode, long len, boolean masked) {
    out.writeByte(0x80 | opcode);
    int maskBit = masked ? 0x80 : 0;
    if (len < 126) {
      out.writeByte(maskBit | (int) len);
    } else if (len <= 0xFFFF) {
      out.writeByte(maskBit | 126);
      out.writeShort((int) len);
    } else {
      out.writeByte(maskBit | 127);
      out.writeLong(len);
    }
    if (masked) {
      out.writeInt(0);
    }
  }

  /** A whole unmasked (server) text frame. */
  static ByteBuf serverText(ByteBufAllocator alloc, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    ByteBuf out = alloc.buffer(headerSize(bytes.length, false) + bytes.length);
    writeHeader(out, OP_TEXT, bytes.length, false);
    return out.writeBytes(bytes);
  }

  /**
   * The parsed header of the frame at {@code in}'s reader index, or null when the header is not all
   * there yet. Does not move the reader index.
   */
  static @Nullable Header peekHeader(ByteBuf in) {
    int r = in.readerIndex();
    int avail = in.readableBytes();
    if (avail < 2) {
      return null;
    }
    int b0 = in.getUnsignedByte(r);
    int b1 = in.getUnsignedByte(r + 1);
    boolean masked = (b1 & 0x80) != 0;
    long len = b1 & 0x7F;
    int size = 2;
    if (len == 126) {
      if (avail < 4) {
        return null;
      }
      len = in.getUnsignedShort(r + 2);
      size = 4;
    } else if (len == 127) {
      if (avail < 10) {
        return null;
      }
      len = in.getLong(r + 2);
      size = 10;
    }
    int mask = 0;
    if (masked) {
      if (avail < size + 4) {
        return null;
      }
      mask = in.getInt(r + size);
      size += 4;
    }
    return new Header((b0 & 0x80) != 0, b0 & 0x0F, masked, mask, len, size);
  }

  /** One frame header. */
  static final class Header {
    final boolean fin;
    final int opcode;
    final boolean masked;
    final int mask;
    final long length;
    final int size;

    Header(boolean fin, int opcode, boolean masked, int mask, long length, int size) {
      this.fin = fin;
      this.opcode = opcode;
      this.masked = masked;
      this.mask = mask;
      this.length = length;
      this.size = size;
    }
  }

  /** XORs {@code len} bytes of {@code buf} from {@code index} with the mask key, in place. */
  static void unmask(ByteBuf buf, int index, int len, int mask) {
    if (mask == 0) {
      return;
    }
    int i = 0;
    long mask8 = ((long) mask << 32) | (mask & 0xFFFFFFFFL);
    for (; i + 8 <= len; i += 8) {
      buf.setLong(index + i, buf.getLong(index + i) ^ mask8);
    }
    for (; i < len; i++) {
      int shift = 24 - 8 * (i & 3);
      buf.setByte(index + i, buf.getByte(index + i) ^ (mask >>> shift));
    }
  }

  /** Index of the blank line ending an HTTP head in {@code in}, or -1 (reader index unchanged). */
  static int headEnd(ByteBuf in) {
    int from = in.readerIndex();
    int to = in.writerIndex();
    for (int i = from; i + 3 < to; i++) {
      if (in.getByte(i) == '\r'
          && in.getByte(i + 1) == '\n'
          && in.getByte(i + 2) == '\r'
          && in.getByte(i + 3) == '\n') {
        return i + 4;
      }
    }
    return -1;
  }

  /** The value of header {@code name} (case-insensitive) in an HTTP head, or null. */
  static @Nullable String header(String head, String name) {
    String lower = head.toLowerCase(Locale.ROOT);
    int at = lower.indexOf("\r\n" + name.toLowerCase(Locale.ROOT) + ":");
    if (at < 0) {
      return null;
    }
    int start = at + 3 + name.length();
    int end = head.indexOf("\r\n", start);
    return head.substring(start, end < 0 ? head.length() : end).trim();
  }

  /** The {@code Sec-WebSocket-Accept} value for {@code key}. */
  static String accept(String key) {
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      byte[] digest =
          sha1.digest(
              (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII));
      return Base64.getEncoder().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is required of every JDK", e);
    }
  }

  // ---- transport -------------------------------------------------------------------------------

  /** Whether Netty's native epoll loaded (it ships for Linux x86_64); NIO otherwise. */
  static boolean epoll() {
    try {
      return Epoll.isAvailable();
    } catch (LinkageError e) {
      return false;
    }
  }

  static String transportName() {
    return epoll() ? "epoll" : "nio";
  }

  static EventLoopGroup group(int threads) {
    IoHandlerFactory f = epoll() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    return new MultiThreadIoEventLoopGroup(threads, f);
  }

  static Class<? extends Channel> socketChannel() {
    return epoll() ? EpollSocketChannel.class : NioSocketChannel.class;
  }

  static Class<? extends ServerChannel> serverChannel() {
    return epoll() ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }
}

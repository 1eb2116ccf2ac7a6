package dev.affinity.netty;

/**
 * The I/O transport an {@link AffinityProxyServer} runs on.
 *
 * <p>The native transports need their native library, which {@code affinity-netty} brings for Linux
 * x86_64 ({@code netty-transport-native-epoll} and {@code netty-transport-native-io_uring} with the
 * {@code linux-x86_64} classifier). When the requested one cannot load (another platform, a kernel
 * or seccomp policy that refuses io_uring, a missing library), the server falls back — io_uring to
 * epoll, epoll to NIO — and its startup log line says which transport runs and why the requested
 * one did not.
 *
 * <pre>{@code
 * AffinityProxyServer lb =
 *     AffinityProxyServer.builder(router).transport(NettyTransport.IO_URING).build().start();
 * System.out.println(lb.transport()); // IO_URING, or EPOLL where the kernel refuses io_uring
 * }</pre>
 */
public enum NettyTransport {
  /** Linux epoll through Netty's native library: the default. */
  EPOLL("epoll"),
  /** Linux io_uring through Netty's native library (kernel 5.14 or later); opt-in. */
  IO_URING("io_uring"),
  /** Java NIO: portable, and the fallback when no native transport loads. */
  NIO("nio");

  private final String displayName;

  NettyTransport(String displayName) {
    this.displayName = displayName;
  }

  /** The transport's lower-case name as it appears in log lines: {@code epoll}, {@code nio}. */
  public String displayName() {
    return displayName;
  }
}

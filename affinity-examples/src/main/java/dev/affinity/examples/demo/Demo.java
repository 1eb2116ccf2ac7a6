package dev.affinity.examples.demo;

import static java.util.Objects.requireNonNull;

import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.Member;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The demo's embedded parts: three {@link DemoBackend}s on 127.0.0.1 and, once the proxy runs, the
 * {@link DemoPage} that shows and controls them.
 *
 * <p>Stopping a backend from the page marks it DOWN in the router's group and then closes it, as a
 * health check would report a crashed backend; starting it listens again and marks it UP.
 */
public final class Demo implements AutoCloseable {
  /** The ids of the demo's backends. */
  public static final List<String> BACKEND_IDS = List.of("ws-1", "ws-2", "ws-3");

  private final EventLoopGroup loops;
  private final List<DemoBackend> backends = new ArrayList<>();
  private final String cookieName;
  private @Nullable DemoPage page;

  private Demo(String cookieName) {
    this.cookieName = cookieName;
    this.loops = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  }

  /**
   * Starts the three backends.
   *
   * @param cookieName the affinity cookie the backends and the page report on
   */
  public static Demo startBackends(String cookieName) {
    Demo demo = new Demo(requireNonNull(cookieName, "cookieName"));
    try {
      for (String id : BACKEND_IDS) {
        demo.backends.add(DemoBackend.start(id, cookieName, demo.loops));
      }
    } catch (RuntimeException e) {
      demo.close();
      throw e;
    }
    return demo;
  }

  /** The backends as the router sees them: {@code Backend.of("ws-1", "127.0.0.1", port)}. */
  public List<Backend> backends() {
    List<Backend> out = new ArrayList<>();
    for (DemoBackend b : backends) {
      out.add(Backend.of(b.id(), "127.0.0.1", b.port()));
    }
    return out;
  }

  /**
   * Serves the page on {@code address} (loopback only).
   *
   * @param group the router's group, whose states and counts the page shows and changes
   * @param proxyUrl the proxy's WebSocket URL
   * @param server the adapter's name, for the page's header
   */
  public synchronized DemoPage startPage(
      InetSocketAddress address, BackendGroup group, String proxyUrl, String server) {
    requireNonNull(group, "group");
    requireNonNull(proxyUrl, "proxyUrl");
    requireNonNull(server, "server");
    page = DemoPage.start(address, new Control(group, proxyUrl, server));
    return page;
  }

  /** Stops the page, then the backends. */
  @Override
  public synchronized void close() {
    if (page != null) {
      page.close();
    }
    for (DemoBackend b : backends) {
      b.close();
    }
    loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private @Nullable DemoBackend backend(String id) {
    for (DemoBackend b : backends) {
      if (b.id().equals(id)) {
        return b;
      }
    }
    return null;
  }

  private final class Control implements DemoPage.Control {
    private final BackendGroup group;
    private final String proxyUrl;
    private final String server;

    Control(BackendGroup group, String proxyUrl, String server) {
      this.group = group;
      this.proxyUrl = proxyUrl;
      this.server = server;
    }

    @Override
    public String proxyUrl() {
      return proxyUrl;
    }

    @Override
    public String server() {
      return server;
    }

    @Override
    public String cookieName() {
      return cookieName;
    }

    @Override
    public List<DemoPage.BackendView> backends() {
      List<DemoPage.BackendView> out = new ArrayList<>();
      for (DemoBackend b : backends) {
        Member m = group.snapshot().member(b.id());
        String state = m == null ? "REMOVED" : m.state().name();
        out.add(
            new DemoPage.BackendView(
                b.id(), b.port(), b.isRunning(), state, group.liveConnections(b.id())));
      }
      return out;
    }

    @Override
    public boolean stop(String id) {
      DemoBackend b = backend(id);
      if (b == null) {
        return false;
      }
      group.markDown(id); // first, so that no new client is sent to a closing backend
      b.stop();
      return true;
    }

    @Override
    public boolean start(String id) {
      DemoBackend b = backend(id);
      if (b == null) {
        return false;
      }
      b.start();
      group.markUp(id);
      return true;
    }
  }
}

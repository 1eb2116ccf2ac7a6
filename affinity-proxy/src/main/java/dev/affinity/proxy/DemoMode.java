package dev.affinity.proxy;

import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * An embedded demo that a proxy distribution can carry: started instead of real backends when the
 * command line names none (or says {@code --demo}). {@code affinity-examples.jar} plugs in three
 * embedded backends and a page; the plain {@code affinity-proxy.jar} has no demo and requires a
 * {@code --backend}.
 *
 * <pre>{@code
 * int status = AffinityProxy.run(new ProxyCommand(myDemo), args);
 * }</pre>
 */
public interface DemoMode {
  /**
   * Starts the demo's backends.
   *
   * @param cookieName the affinity cookie's name, which the backends and the page report on
   * @return the running demo
   */
  Session start(String cookieName);

  /** A running demo; {@link #close()} stops its page and backends. */
  interface Session extends AutoCloseable {
    /** The backends the proxy routes to. */
    List<Backend> backends();

    /**
     * Serves the demo page on {@code address}.
     *
     * @param group the proxy's backend group, whose states the page shows and changes
     * @param proxyUrl the proxy's WebSocket URL
     * @param server the adapter's name, as {@code --server} spells it
     * @return the page's URL
     */
    String startPage(InetSocketAddress address, BackendGroup group, String proxyUrl, String server);

    /** Stops the page, then the backends. */
    @Override
    void close();
  }
}

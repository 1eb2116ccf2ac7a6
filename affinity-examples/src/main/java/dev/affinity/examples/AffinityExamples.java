package dev.affinity.examples;

import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.examples.demo.Demo;
import dev.affinity.proxy.AffinityProxy;
import dev.affinity.proxy.DemoMode;
import dev.affinity.proxy.ProxyCommand;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The entry point of {@code affinity-examples.jar}: {@code affinity-proxy} with the demo plugged
 * in, so that {@code java -jar affinity-examples.jar} without flags starts three embedded backends,
 * the proxy and the demo page. With {@code --backend} flags it is the plain proxy.
 */
public final class AffinityExamples {
  /** The demo: three embedded backends and the page. */
  public static final DemoMode DEMO = AffinityExamples::startDemo;

  private AffinityExamples() {}

  /** Runs the proxy, or the demo without {@code --backend}, until SIGTERM or Ctrl-C. */
  public static void main(String[] args) {
    AffinityProxy.run(new ProxyCommand(DEMO), args);
  }

  private static DemoMode.Session startDemo(String cookieName) {
    Demo demo = Demo.startBackends(cookieName);
    return new DemoMode.Session() {
      @Override
      public List<Backend> backends() {
        return demo.backends();
      }

      @Override
      public String startPage(
          InetSocketAddress address, BackendGroup group, String proxyUrl, String server) {
        return demo.startPage(address, group, proxyUrl, server).url();
      }

      @Override
      public void close() {
        demo.close();
      }
    };
  }
}

package dev.affinity.loadtest;

import dev.affinity.Router;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.jetty.AffinityHandler;
import dev.affinity.jetty.AffinityServer;
import dev.affinity.netty.AffinityProxyServer;
import dev.affinity.strategy.AffinityStrategy;

/**
 * Starts an affinity adapter as a ready WebSocket load balancer for {@code bench/proxy-bench.sh}:
 * source-IP affinity over the given backends, bound to 127.0.0.1. Netty gets two I/O threads (as
 * HAProxy's {@code nbthread 2} and nginx's {@code worker_processes 2} in the same script; {@code
 * -Daffinity.netty.threads=N} changes it) on its default transport, native epoll; Jetty keeps its
 * defaults (selectors and thread pool sized from the core count), as a drop-in user would.
 *
 * <pre>{@code
 * java -cp affinity-loadtest.jar dev.affinity.loadtest.ProxyLauncher netty 27081 \
 *     ws-1=127.0.0.1:27001,ws-2=127.0.0.1:27002
 * }</pre>
 */
public final class ProxyLauncher {
  private ProxyLauncher() {}

  static BackendGroup backends(String spec) {
    BackendGroup group = BackendGroup.create();
    for (String entry : spec.split(",", -1)) { // an empty entry is an error, not skipped
      int eq = entry.indexOf('=');
      int colon = entry.lastIndexOf(':');
      if (eq <= 0 || colon < eq) {
        throw new IllegalArgumentException(
            "backend: '" + entry + "' (expected: id=host:port, comma-separated)");
      }
      group.add(
          Backend.of(
              entry.substring(0, eq),
              entry.substring(eq + 1, colon),
              Integer.parseInt(entry.substring(colon + 1))));
    }
    return group;
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: ProxyLauncher netty|jetty <port> id=host:port[,id=host:port...]");
      System.exit(2);
    }
    Router router = Router.builder(backends(args[2])).strategy(AffinityStrategy.sourceIp()).build();
    int port = Integer.parseInt(args[1]);
    switch (args[0]) {
      case "netty" -> {
        try (AffinityProxyServer lb =
            AffinityProxyServer.builder(router)
                .host("127.0.0.1")
                .port(port)
                .ioThreads(Integer.getInteger("affinity.netty.threads", 2))
                .build()
                .start()) {
          System.out.println(
              "affinity-netty listening on 127.0.0.1:" + lb.port() + " (" + lb.transport() + ")");
          lb.awaitClose();
        }
      }
      case "jetty" -> {
        try (AffinityServer lb =
            AffinityServer.builder(AffinityHandler.builder(router).build())
                .host("127.0.0.1")
                .port(port)
                .build()
                .start()) {
          System.out.println("affinity-jetty listening on 127.0.0.1:" + lb.port());
          lb.join();
        }
      }
      default -> {
        System.err.println("adapter: '" + args[0] + "' (expected: netty or jetty)");
        System.exit(2);
      }
    }
  }
}

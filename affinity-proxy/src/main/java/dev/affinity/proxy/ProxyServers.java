package dev.affinity.proxy;

import dev.affinity.Router;
import dev.affinity.jetty.AffinityHandler;
import dev.affinity.jetty.AffinityServer;
import dev.affinity.netty.AffinityProxyConfig;
import dev.affinity.netty.AffinityProxyServer;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * Starts the proxy on the adapter {@code --server} names, through each adapter's public bootstrap
 * ({@link AffinityProxyServer}, {@link AffinityServer}) and nothing else.
 */
final class ProxyServers {
  private ProxyServers() {}

  /**
   * Binds {@code listen} and serves {@code router}'s decisions.
   *
   * @param proxyProtocol whether connections start with a PROXY protocol (v1/v2) header
   * @param trustedProxies the ranges whose forwarded headers and PROXY source the adapter believes
   * @throws IllegalStateException if the adapter cannot start (the port is taken, ...)
   */
  static ProxyServer start(
      ServerKind kind,
      Router router,
      InetSocketAddress listen,
      ProxyTimeouts timeouts,
      boolean proxyProtocol,
      List<String> trustedProxies) {
    String[] trusted = trustedProxies.toArray(new String[0]);
    String host = listen.getAddress().getHostAddress();
    try {
      switch (kind) {
        case JETTY:
          return jetty(router, host, listen.getPort(), timeouts, proxyProtocol, trusted);
        case NETTY:
        default:
          return netty(router, host, listen.getPort(), timeouts, proxyProtocol, trusted);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting the " + kind + " proxy", e);
    } catch (Exception e) {
      throw new IllegalStateException(
          "the " + kind.flagValue() + " proxy cannot listen on " + listen + ": " + e.getMessage(),
          e);
    }
  }

  private static ProxyServer netty(
      Router router,
      String host,
      int port,
      ProxyTimeouts t,
      boolean proxyProtocol,
      String[] trusted)
      throws InterruptedException {
    AffinityProxyServer server =
        AffinityProxyServer.builder(router)
            .host(host)
            .port(port)
            .proxyProtocol(proxyProtocol)
            .config(
                AffinityProxyConfig.builder()
                    .connectTimeout(t.connect())
                    .handshakeTimeout(t.handshake())
                    .idleTimeout(t.idle())
                    .trustedProxies(trusted)
                    .build())
            .build()
            .start();
    return running(server.localAddress(), server.transport().displayName(), server::close, server);
  }

  private static ProxyServer jetty(
      Router router,
      String host,
      int port,
      ProxyTimeouts t,
      boolean proxyProtocol,
      String[] trusted)
      throws Exception {
    AffinityHandler handler =
        AffinityHandler.builder(router)
            .connectTimeout(t.connect())
            .handshakeTimeout(t.handshake())
            .idleTimeout(t.idle())
            .trustedProxies(trusted)
            .build();
    AffinityServer server =
        AffinityServer.builder(handler).host(host).port(port).proxyProtocol(proxyProtocol).build();
    try {
      server.start();
    } catch (Exception e) {
      server.close();
      throw e;
    }
    // Jetty's connectors run on the JDK's NIO selector.
    return running(new InetSocketAddress(host, server.port()), "nio", server::close, server);
  }

  private static ProxyServer running(
      InetSocketAddress bound, String transport, Runnable close, Object server) {
    return new ProxyServer() {
      @Override
      public InetSocketAddress address() {
        return bound;
      }

      @Override
      public String transport() {
        return transport;
      }

      @Override
      public void close() {
        close.run();
      }

      @Override
      public String toString() {
        return server.toString();
      }
    };
  }
}

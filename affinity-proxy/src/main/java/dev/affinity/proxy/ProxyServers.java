package dev.affinity.proxy;

import dev.affinity.Router;
import dev.affinity.jetty.AffinityHandler;
import dev.affinity.jetty.AffinityServer;
import dev.affinity.netty.AffinityProxyConfig;
import dev.affinity.netty.AffinityProxyServer;
import dev.affinity.strategy.LearnedAffinity;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jetty.JettyConnectionMetrics;
import io.micrometer.core.instrument.binder.jetty.JettyServerThreadPoolMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

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
   * @param tls the listener's certificate and key, and the CA of {@code wss://} backends
   * @param access the access log, told how each handshake was answered and each tunnel closed
   * @param learned what learns from each backend's 101 ({@code --learn}), or null
   * @throws IllegalArgumentException naming the flag, file and reason of unusable TLS files
   * @throws IllegalStateException if the adapter cannot start (the port is taken, ...)
   */
  static ProxyServer start(
      ServerKind kind,
      Router router,
      InetSocketAddress listen,
      ProxyTimeouts timeouts,
      boolean proxyProtocol,
      List<String> trustedProxies,
      ProxyTls tls,
      AccessLog access,
      @Nullable LearnedAffinity learned) {
    SSLContext backendTrust = tls.backendContext();
    String[] trusted = trustedProxies.toArray(new String[0]);
    String host = listen.getAddress().getHostAddress();
    try {
      switch (kind) {
        case JETTY:
          return jetty(
              router,
              host,
              listen.getPort(),
              timeouts,
              proxyProtocol,
              trusted,
              tls,
              backendTrust,
              access,
              learned);
        case NETTY:
        default:
          return netty(
              router,
              host,
              listen.getPort(),
              timeouts,
              proxyProtocol,
              trusted,
              tls,
              backendTrust,
              access,
              learned);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting the " + kind + " proxy", e);
    } catch (IllegalArgumentException e) {
      // An unusable certificate or key file: the adapter names the file and the reason.
      throw new IllegalArgumentException("--tls-cert/--tls-key: " + e.getMessage(), e);
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
      String[] trusted,
      ProxyTls tls,
      @Nullable SSLContext backendTrust,
      AccessLog access,
      @Nullable LearnedAffinity learned)
      throws InterruptedException {
    AffinityProxyConfig.Builder config =
        AffinityProxyConfig.builder()
            .connectTimeout(t.connect())
            .handshakeTimeout(t.handshake())
            .idleTimeout(t.idle())
            .trustedProxies(trusted)
            .tunnelListener(access);
    if (backendTrust != null) {
      config.backendSslContext(backendTrust);
    }
    if (learned != null) {
      config.learnedAffinity(learned);
    }
    AffinityProxyServer.Builder builder =
        AffinityProxyServer.builder(router)
            .host(host)
            .port(port)
            .proxyProtocol(proxyProtocol)
            .config(config.build());
    Path cert = tls.certificate();
    Path key = tls.key();
    if (cert != null && key != null) {
      builder.tls(cert, key);
    }
    AffinityProxyServer server = builder.build().start();
    return running(
        server.localAddress(),
        server.transport().displayName(),
        server::close,
        cert != null,
        () -> cert != null && server.reloadTls(),
        registry -> {
          if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider) {
            new NettyAllocatorMetrics((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT)
                .bindTo(registry);
          }
        },
        server);
  }

  private static ProxyServer jetty(
      Router router,
      String host,
      int port,
      ProxyTimeouts t,
      boolean proxyProtocol,
      String[] trusted,
      ProxyTls tls,
      @Nullable SSLContext backendTrust,
      AccessLog access,
      @Nullable LearnedAffinity learned)
      throws Exception {
    AffinityHandler.Builder handler =
        AffinityHandler.builder(router)
            .connectTimeout(t.connect())
            .handshakeTimeout(t.handshake())
            .idleTimeout(t.idle())
            .trustedProxies(trusted)
            .tunnelListener(access);
    if (backendTrust != null) {
      handler.backendSslContext(backendTrust);
    }
    if (learned != null) {
      handler.learnedAffinity(learned);
    }
    AffinityServer.Builder builder =
        AffinityServer.builder(handler.build()).host(host).port(port).proxyProtocol(proxyProtocol);
    Path cert = tls.certificate();
    Path key = tls.key();
    if (cert != null && key != null) {
      builder.tls(cert, key);
    }
    AffinityServer server = builder.build();
    try {
      server.start();
    } catch (Exception e) {
      server.close();
      throw e;
    }
    // Jetty's connectors run on the JDK's NIO selector.
    return running(
        new InetSocketAddress(host, server.port()),
        "nio",
        server::close,
        cert != null,
        () -> cert != null && server.reloadTls(),
        registry -> {
          // Micrometer's Jetty binders (micrometer-core) on the Jetty 12 API: connections opened
          // and closed, bytes and messages in and out per connector; the server's thread pool.
          JettyConnectionMetrics.addToAllConnectors(server.server(), registry);
          new JettyServerThreadPoolMetrics(server.server().getThreadPool(), Tags.empty())
              .bindTo(registry);
        },
        server);
  }

  private static ProxyServer running(
      InetSocketAddress bound,
      String transport,
      Runnable close,
      boolean secure,
      BooleanSupplier reloadTls,
      Consumer<MeterRegistry> meters,
      Object server) {
    return new ProxyServer() {
      @Override
      public void bindMeters(MeterRegistry registry) {
        meters.accept(registry);
      }

      @Override
      public boolean secure() {
        return secure;
      }

      @Override
      public boolean reloadTls() {
        return reloadTls.getAsBoolean();
      }

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

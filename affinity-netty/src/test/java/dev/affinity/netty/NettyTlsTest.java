package dev.affinity.netty;

import dev.affinity.Router;
import dev.affinity.testkit.TlsScenarios;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLContext;

/** {@link TlsScenarios} on the Netty adapter: {@code AffinityProxyServer.Builder.tls}. */
class NettyTlsTest extends TlsScenarios {
  @Override
  protected TlsProxy startTlsProxy(
      Router router, Path certificate, Path key, Duration checkInterval, SSLContext backendTrust)
      throws Exception {
    AffinityProxyServer server =
        AffinityProxyServer.builder(router)
            .host("127.0.0.1")
            .port(0)
            .ioThreads(1)
            .tls(certificate, key)
            .tlsCheckInterval(checkInterval)
            .config(AffinityProxyConfig.builder().backendSslContext(backendTrust).build())
            .build()
            .start();
    return TlsProxy.of(server::port, server::reloadTls, server::close);
  }
}

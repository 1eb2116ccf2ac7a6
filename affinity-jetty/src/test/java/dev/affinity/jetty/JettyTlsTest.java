package dev.affinity.jetty;

import dev.affinity.Router;
import dev.affinity.testkit.TlsScenarios;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLContext;

/** {@link TlsScenarios} on the Jetty adapter: {@code AffinityServer.Builder.tls}. */
class JettyTlsTest extends TlsScenarios {
  @Override
  protected TlsProxy startTlsProxy(
      Router router, Path certificate, Path key, Duration checkInterval, SSLContext backendTrust)
      throws Exception {
    AffinityServer server =
        AffinityServer.builder(
                AffinityHandler.builder(router).backendSslContext(backendTrust).build())
            .host("127.0.0.1")
            .port(0)
            .tls(certificate, key)
            .tlsCheckInterval(checkInterval)
            .build()
            .start();
    return TlsProxy.of(server::port, server::reloadTls, server::close);
  }
}

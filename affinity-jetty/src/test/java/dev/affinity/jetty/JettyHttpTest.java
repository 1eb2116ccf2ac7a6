package dev.affinity.jetty;

import dev.affinity.Router;
import dev.affinity.internal.http.HttpScope;
import dev.affinity.testkit.HttpScenarios;
import dev.affinity.testkit.ProxyHandle;
import dev.affinity.testkit.ProxySettings;

/**
 * The shared plain-HTTP scenarios (affinity-testkit's {@link HttpScenarios}) run against {@link
 * AffinityHandler} with {@code proxyHttp} on a real Jetty server; {@link JettyHttpProxyTest} has
 * the Jetty-specific ones.
 */
class JettyHttpTest extends HttpScenarios {
  @Override
  protected ProxyHandle startProxy(Router router, ProxySettings settings) throws Exception {
    AffinityHandler.Builder b =
        AffinityHandler.builder(router)
            .connectTimeout(settings.connectTimeout())
            .handshakeTimeout(settings.handshakeTimeout())
            .idleTimeout(settings.idleTimeout())
            .trustedProxies(settings.trustedProxies().toArray(new String[0]))
            .requestHeadTimeout(settings.requestHeadTimeout())
            .httpMaxConnectionsPerBackend(settings.httpMaxConnectionsPerBackend())
            .httpResponseTimeout(settings.httpResponseTimeout())
            .httpPoolIdleTimeout(settings.httpPoolIdleTimeout())
            .httpMaxRequestBodyBytes(settings.httpMaxRequestBodyBytes());
    HttpScope scope = settings.httpScope();
    if (scope.isAll()) {
      b.proxyHttp(true);
    } else if (!scope.isNone()) {
      b.proxyHttpPaths(scope.prefixes().toArray(new String[0]));
    }
    return AffinityHandlerTest.JettyProxy.start(b.build(), settings.proxyProtocol());
  }
}

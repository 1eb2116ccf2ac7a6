package dev.affinity.jetty;

import com.google.common.net.InetAddresses;
import dev.affinity.backend.Backend;
import dev.affinity.internal.tls.PemTls;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.io.ClientConnectionFactory;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Transport;
import org.eclipse.jetty.io.ssl.SslClientConnectionFactory;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.SocketAddressResolver;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * Opens backend connections without blocking: IP literals are used as they are, host names are
 * resolved on the executor (never on a selector thread), and the TCP connect runs on Jetty's {@link
 * ClientConnector} selector with its connect timeout.
 */
final class BackendConnector {
  private final AffinityHandler handler;
  private final ClientConnector connector;
  private final Scheduler scheduler;
  private final SocketAddressResolver resolver;
  private final SslContextFactory.Client tls;

  BackendConnector(
      AffinityHandler handler,
      ClientConnector connector,
      Scheduler scheduler,
      SslContextFactory.Client tls) {
    this.handler = handler;
    this.tls = tls;
    this.connector = connector;
    this.scheduler = scheduler;
    this.resolver =
        new SocketAddressResolver.Async(
            connector.getExecutor(), scheduler, handler.connectTimeout().toMillis());
  }

  /**
   * Connects to {@code backend} for {@code exchange}, trying each address its host name resolves to
   * in order; every failure ends in {@link ProxyExchange#attemptFailed}.
   */
  void connect(Backend backend, ProxyExchange exchange) {
    String host = backend.host();
    if (InetAddresses.isInetAddress(host)) {
      InetSocketAddress address =
          new InetSocketAddress(InetAddresses.forString(host), backend.port());
      connect(List.of(address), 0, backend, exchange);
      return;
    }
    resolver.resolve(
        host,
        backend.port(),
        new HashMap<>(),
        new Promise<List<InetSocketAddress>>() {
          @Override
          public void succeeded(List<InetSocketAddress> addresses) {
            connect(addresses, 0, backend, exchange);
          }

          @Override
          public void failed(Throwable x) {
            exchange.attemptFailed(backend, x);
          }
        });
  }

  private void connect(
      List<InetSocketAddress> addresses, int index, Backend backend, ProxyExchange exchange) {
    Map<String, Object> context = new HashMap<>();
    context.put(Transport.CONTEXT_KEY, Transport.TCP_IP);
    ClientConnectionFactory backendConnection =
        (endPoint, ctx) ->
            new BackendConnection(
                endPoint,
                connector.getExecutor(),
                connector.getByteBufferPool(),
                scheduler,
                handler.bufferSize(),
                handler.maxResponseHeadBytes(),
                handler.maxErrorBodyBytes(),
                exchange,
                backend);
    if (PemTls.isTls(backend)) {
      // TLS first. SNI and the host-name check use the connected address's host string: the
      // backend's host name as resolved (an InetAddress keeps it), or its IP literal.
      backendConnection =
          new SslClientConnectionFactory(
              tls, connector.getByteBufferPool(), connector.getExecutor(), backendConnection);
    }
    context.put(ClientConnectionFactory.CONTEXT_KEY, backendConnection);
    context.put(
        ClientConnector.CONNECTION_PROMISE_CONTEXT_KEY,
        new Promise<Connection>() {
          @Override
          public void succeeded(Connection connection) {
            // BackendConnection.onOpen has taken over.
          }

          @Override
          public void failed(Throwable x) {
            if (index + 1 < addresses.size()) {
              connect(addresses, index + 1, backend, exchange); // say, ::1 refused; 127.0.0.1 next
            } else {
              exchange.attemptFailed(backend, x);
            }
          }
        });
    connector.connect(addresses.get(index), context);
  }
}

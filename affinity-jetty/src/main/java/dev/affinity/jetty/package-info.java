/**
 * The Jetty 12.1 adapter: {@link dev.affinity.jetty.AffinityHandler}, a core {@code
 * Handler.Wrapper} that routes WebSocket handshakes with a {@link dev.affinity.Router}, relays the
 * chosen backend's handshake and tunnels the connection; {@link dev.affinity.jetty.AffinityServer}
 * for a ready load balancer; {@link dev.affinity.jetty.Tunnel} for live tunnels.
 *
 * <pre>{@code
 * Server server = new Server();
 * ServerConnector connector = new ServerConnector(server);
 * connector.setPort(8080);
 * server.addConnector(connector);
 * server.setHandler(AffinityHandler.builder(router).build());
 * server.start();
 * }</pre>
 *
 * <p>Everything else in this package is implementation. See {@code docs/jetty.md}.
 */
@NullMarked
package dev.affinity.jetty;

import org.jspecify.annotations.NullMarked;

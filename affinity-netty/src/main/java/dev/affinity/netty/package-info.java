/**
 * The Netty 4.2 adapter: {@link dev.affinity.netty.AffinityProxyHandler}, a drop-in handler that
 * routes WebSocket handshakes with a {@link dev.affinity.Router} and tunnels them to the chosen
 * backend, and {@link dev.affinity.netty.AffinityProxyServer}, a ready server around it.
 */
@NullMarked
package dev.affinity.netty;

import org.jspecify.annotations.NullMarked;

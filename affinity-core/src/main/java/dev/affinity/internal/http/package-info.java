/**
 * The adapter-neutral handshake contract: the rules both drop-in adapters (Netty and Jetty) apply
 * to a WebSocket handshake and a tunnel, and to the plain HTTP requests they proxy ({@link
 * HttpScope}, {@link HopByHop}), written once. <strong>Not API</strong>: the adapters call it,
 * applications should not; anything here may change in any release.
 */
@NullMarked
package dev.affinity.internal.http;

import org.jspecify.annotations.NullMarked;

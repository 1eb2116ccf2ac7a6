/**
 * {@code affinity-proxy}: a runnable sticky WebSocket proxy built only from the public API of
 * affinity-core and the Netty and Jetty adapters. Not API: the command line is the interface.
 */
@NullMarked
package dev.affinity.proxy;

import org.jspecify.annotations.NullMarked;

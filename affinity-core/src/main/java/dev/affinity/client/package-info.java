/**
 * Client address resolution: which address a handshake really came from, honouring forwarded
 * headers and PROXY protocol only from trusted proxies.
 */
@NullMarked
package dev.affinity.client;

import org.jspecify.annotations.NullMarked;

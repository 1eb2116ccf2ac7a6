/** Routing WebSocket handshakes to backends: {@link dev.affinity.Router} and its decision. */
@NullMarked
package dev.affinity;

import org.jspecify.annotations.NullMarked;

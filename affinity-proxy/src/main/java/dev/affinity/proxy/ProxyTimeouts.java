package dev.affinity.proxy;

import java.time.Duration;

/**
 * The proxy's timeouts.
 *
 * @param connect how long a TCP connect to a backend may take before the next candidate is tried
 * @param handshake how long a backend may take to answer the forwarded upgrade request
 * @param idle how long a tunnel may carry no bytes in either direction before it is closed
 * @param shutdown how long open tunnels get to finish on shutdown
 */
record ProxyTimeouts(Duration connect, Duration handshake, Duration idle, Duration shutdown) {}

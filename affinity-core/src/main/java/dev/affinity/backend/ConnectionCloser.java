package dev.affinity.backend;

/**
 * How the lifecycle machinery asks an adapter to close one live connection: at a drain deadline,
 * for selective re-homing, or at the end of its maximum lifetime. The adapter passes one when it
 * opens the lease.
 *
 * <pre>{@code
 * ConnectionLease lease = decision.openLease(backend, reason ->
 *     clientChannel.eventLoop().execute(() -> closeTunnel(reason.webSocketCode(), reason.phrase())));
 * }</pre>
 *
 * <p>Called at most once per lease, on a lifecycle thread (never an adapter event loop, never the
 * routing path). It must not block: hop to the connection's own thread and return. The adapter
 * closes the lease as usual when the connection has ended. A closer that throws is logged and the
 * connection is left alone.
 */
@FunctionalInterface
public interface ConnectionCloser {
  /** Closes the connection for {@code reason}; see {@link CloseReason} for what to send. */
  void close(CloseReason reason);
}

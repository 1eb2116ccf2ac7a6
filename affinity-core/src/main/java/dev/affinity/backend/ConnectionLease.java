package dev.affinity.backend;

/**
 * One open connection counted against a backend. Take it when the connection to the backend is
 * established and close it when the connection ends; live counts (used by least-connections,
 * connection caps, bounded load and metrics) are then exact.
 *
 * <pre>{@code
 * ConnectionLease lease = decision.openLease();
 * channel.closeFuture().addListener(f -> lease.close());
 * }</pre>
 *
 * <p>{@link #close()} is idempotent and thread-safe: only the first call counts.
 */
public interface ConnectionLease extends AutoCloseable {
  /** The backend this connection is counted against. */
  Backend backend();

  /** Whether {@link #close()} has been called. */
  boolean isClosed();

  /** Ends the lease. Calls after the first do nothing. Never throws. */
  @Override
  void close();
}

package dev.affinity.backend;

/** The routing state of a backend in a {@link BackendGroup}. */
public enum BackendState {
  /** Takes new clients and returning clients. */
  UP,
  /**
   * Keeps its open connections and, until its drain deadline, its own returning sticky clients
   * (cookie affinity); takes no new clients. Hash strategies route around it.
   */
  DRAINING,
  /**
   * Gets nothing: marked down by an operator, or failing its health checks, or ejected by outlier
   * detection (see {@link Member#state()}). Open connections are left to the adapter, which usually
   * sees them fail.
   */
  DOWN;

  /** Whether a backend in this state may receive a connection from a client it has never seen. */
  public boolean acceptsNewClients() {
    return this == UP;
  }
}

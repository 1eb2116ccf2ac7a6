package dev.affinity.netty;

/** What {@link AffinityProxyHandler} does with an HTTP request that is not a WebSocket upgrade. */
public enum NonWebSocketPolicy {
  /**
   * Pass the request (and its content) to the next handler in the pipeline, as if the proxy handler
   * were not there: for servers that also serve pages or health checks.
   */
  PASS,
  /** Answer {@code 426 Upgrade Required} with {@code Upgrade: websocket}, then close. */
  UPGRADE_REQUIRED,
  /** Answer {@code 404 Not Found}, then close. */
  NOT_FOUND
}

package dev.affinity.testkit;

/**
 * A real WebSocket client as the scenarios use it. Two independent implementations exist: {@link
 * #jdk()} ({@code java.net.http.WebSocket}) and {@link #jetty()} (Jetty's WebSocket client). Each
 * client keeps a cookie jar, so a reconnect through the same client sends back the cookies the
 * previous 101 set, like a browser.
 *
 * <pre>{@code
 * try (WsClient client = WsClient.jdk();
 *     WsSession s = client.connect(Handshake.to(port, "/chat"))) {
 *   String hello = s.nextText(); // "backend:ws-1"
 *   s.sendText("hi");
 * }
 * }</pre>
 */
public interface WsClient extends AutoCloseable {
  /** A client over {@code java.net.http.WebSocket}, with its own cookie jar. */
  static WsClient jdk() {
    return new JdkWsClient();
  }

  /**
   * A client over {@code java.net.http.WebSocket} for {@code wss://} URIs, trusting what {@code
   * tls} trusts (host names verified), with its own cookie jar.
   */
  static WsClient jdk(javax.net.ssl.SSLContext tls) {
    return new JdkWsClient(tls);
  }

  /** A client over Jetty's WebSocket client, with its own cookie jar. */
  static WsClient jetty() {
    return new JettyWsClient();
  }

  /**
   * Opens a WebSocket and waits for the handshake.
   *
   * @throws HandshakeFailedException if the server answered something other than 101 or the
   *     connection failed
   */
  WsSession connect(Handshake handshake);

  /** The value of cookie {@code name} in this client's jar, or null. */
  @org.jspecify.annotations.Nullable
  String cookie(String name);

  /** A short name for test reports: {@code jdk} or {@code jetty}. */
  String name();

  /** Stops the client and closes its sessions. */
  @Override
  void close();
}

package dev.affinity;

import java.net.InetSocketAddress;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A read-only view of a WebSocket handshake request: what strategies may look at to choose a
 * backend.
 *
 * <p>Adapters implement this over their native request without copying; users and tests build one
 * with {@link #builder()}:
 *
 * <pre>{@code
 * RoutingRequest request = RoutingRequest.builder()
 *     .remoteAddress(new InetSocketAddress("10.0.0.7", 51234))
 *     .path("/chat")
 *     .header("X-Forwarded-For", "203.0.113.9")
 *     .cookie("AFFINITY", cookieValue)
 *     .build();
 * }</pre>
 *
 * <p>Implementations must not throw from any method: a value that cannot be read is absent. Header
 * names are case-insensitive. Values are as received and must be treated as untrusted.
 */
public interface RoutingRequest {
  /** The address of the TCP peer: the client, or the last proxy in front of us. */
  InetSocketAddress remoteAddress();

  /**
   * The source address from a PROXY protocol header, if the adapter decoded one; null otherwise.
   * Honoured only when the peer is a trusted proxy.
   */
  default @Nullable InetSocketAddress proxyProtocolSourceAddress() {
    return null;
  }

  /** Whether the client connection is TLS (wss). */
  default boolean isSecure() {
    return false;
  }

  /** The HTTP method, upper case as received. */
  String method();

  /** The request path without the query string, percent-decoding not applied. */
  String path();

  /** The first value of a header, or null. Names are case-insensitive. */
  @Nullable String header(String name);

  /** Every value of a header in the order received, or an empty list. */
  List<String> headers(String name);

  /** The first value of a decoded query parameter, or null. */
  @Nullable String queryParameter(String name);

  /**
   * The value of a cookie parsed from the {@code Cookie} header by a real cookie parser, or null.
   */
  @Nullable String cookie(String name);

  /** Returns a builder for requests made by hand: in tests, or in proxy code with its own types. */
  static RoutingRequestBuilder builder() {
    return new RoutingRequestBuilder();
  }
}

package dev.affinity.jetty;

import dev.affinity.RoutingRequest;
import dev.affinity.internal.http.AdapterRoutingRequest;
import java.net.InetSocketAddress;
import java.util.List;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.ProxyConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.jspecify.annotations.Nullable;

/**
 * A {@link RoutingRequest} read straight from Jetty's {@link Request}: headers from its fields, the
 * TCP peer from the endpoint under any PROXY protocol wrapper; cookies and query parameters are
 * parsed by the rules both adapters share ({@link AdapterRoutingRequest}), on first use only.
 * Nothing throws.
 *
 * <p>Jetty recycles its request once the exchange completes, but a decision (and so this view)
 * lives on with the tunnel or in user code. {@link #detach} therefore parses the cookies and the
 * query and snapshots the immutable header fields before that happens; reads after it never touch
 * the Jetty request again.
 */
final class JettyRoutingRequest extends AdapterRoutingRequest {
  private final @Nullable String rawQuery;
  // Written once by detach or release, before the request reference is dropped.
  private volatile @Nullable HttpFields snapshot;
  private volatile @Nullable Request request;

  JettyRoutingRequest(Request request) {
    super(
        peer(request),
        proxySource(request),
        request.isSecure(),
        request.getMethod(),
        pathOf(request));
    this.request = request;
    this.rawQuery = request.getHttpURI().getQuery();
  }

  private static String pathOf(Request request) {
    String p = request.getHttpURI().getPath();
    return p == null ? "/" : p;
  }

  private static EndPoint endPoint(Request request) {
    return request.getConnectionMetaData().getConnection().getEndPoint();
  }

  private static InetSocketAddress peer(Request request) {
    EndPoint endPoint = endPoint(request);
    ProxyConnectionFactory.ProxyEndPoint proxied = findProxyEndPoint(endPoint);
    return inet(
        proxied != null
            ? proxied.unwrap().getRemoteSocketAddress()
            : endPoint.getRemoteSocketAddress());
  }

  private static @Nullable InetSocketAddress proxySource(Request request) {
    ProxyConnectionFactory.ProxyEndPoint proxied = findProxyEndPoint(endPoint(request));
    if (proxied == null) {
      return null;
    }
    InetSocketAddress peer = inet(proxied.unwrap().getRemoteSocketAddress());
    InetSocketAddress source = inet(proxied.getRemoteSocketAddress());
    // A PROXY "LOCAL" command (health checks) carries no source: Jetty reports the peer itself.
    return source.equals(peer) || isUnknown(source) ? null : source;
  }

  /**
   * Parses the cookies and the query, snapshots the headers, and with {@code release} drops the
   * reference to the Jetty request so that a long-lived tunnel does not keep it. Call once, while
   * the Jetty request is still live.
   */
  void detach(boolean release) {
    Request r = request;
    if (r == null || snapshot != null) {
      return;
    }
    parseAll();
    snapshot = r.getHeaders().asImmutable();
    if (release) {
      request = null;
    }
  }

  /**
   * Drops the reference to the Jetty request without copying anything: for a tunnel, whose decision
   * needs nothing from the request after the handshake. Later reads see no headers or cookies.
   */
  void release() {
    if (snapshot == null) {
      snapshot = HttpFields.EMPTY;
    }
    request = null;
  }

  private static ProxyConnectionFactory.@Nullable ProxyEndPoint findProxyEndPoint(
      EndPoint endPoint) {
    EndPoint e = endPoint;
    for (int depth = 0; e != null && depth < 8; depth++) {
      if (e instanceof ProxyConnectionFactory.ProxyEndPoint) {
        return (ProxyConnectionFactory.ProxyEndPoint) e;
      }
      e = e instanceof EndPoint.Wrapper ? ((EndPoint.Wrapper) e).unwrap() : null;
    }
    return null;
  }

  @Override
  protected @Nullable String rawQuery() {
    return rawQuery;
  }

  @Override
  public @Nullable String header(String name) {
    return headers().get(name);
  }

  @Override
  public List<String> headers(String name) {
    return headers().getValuesList(name);
  }

  private HttpFields headers() {
    HttpFields s = snapshot;
    if (s != null) {
      return s;
    }
    Request r = request;
    return r == null ? HttpFields.EMPTY : r.getHeaders();
  }
}

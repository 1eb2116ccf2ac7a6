package dev.affinity.jetty;

import dev.affinity.RoutingRequest;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import org.eclipse.jetty.http.HttpCookie;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.ProxyConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Fields;
import org.jspecify.annotations.Nullable;

/**
 * A {@link RoutingRequest} read straight from Jetty's {@link Request}: headers from its fields,
 * cookies from {@link Request#getCookies} (Jetty's RFC 6265 parser), query parameters from {@link
 * Request#extractQueryParameters}, and the TCP peer from the endpoint under any PROXY protocol
 * wrapper. Cookies and parameters are parsed on first use only; nothing throws.
 *
 * <p>Jetty recycles its request once the exchange completes, but a decision (and so this view)
 * lives on with the tunnel or in user code. {@link #detach} therefore snapshots what the view
 * serves — the immutable header fields, the parsed cookies and parameters — before that happens;
 * reads after it never touch the Jetty request again.
 */
final class JettyRoutingRequest implements RoutingRequest {
  private static final InetSocketAddress UNKNOWN = new InetSocketAddress("0.0.0.0", 0);
  private static final Snapshot RELEASED = new Snapshot(HttpFields.EMPTY, List.of(), Fields.EMPTY);

  private final InetSocketAddress peer;
  private final @Nullable InetSocketAddress proxySource;
  private final String method;
  private final String path;
  private final boolean secure;
  // Written once by detach; the snapshot is published before the request reference is dropped.
  private volatile @Nullable Snapshot snapshot;
  private volatile @Nullable Request request;
  private @Nullable List<HttpCookie> cookies;
  private @Nullable Fields query;

  JettyRoutingRequest(Request request) {
    this.request = request;
    this.method = request.getMethod();
    String p = request.getHttpURI().getPath();
    this.path = p == null ? "/" : p;
    this.secure = request.isSecure();
    EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
    ProxyConnectionFactory.ProxyEndPoint proxied = findProxyEndPoint(endPoint);
    if (proxied != null) {
      this.peer = inet(proxied.unwrap().getRemoteSocketAddress());
      InetSocketAddress source = inet(proxied.getRemoteSocketAddress());
      // A PROXY "LOCAL" command (health checks) carries no source: Jetty reports the peer itself.
      this.proxySource = source.equals(peer) || source.equals(UNKNOWN) ? null : source;
    } else {
      this.peer = inet(endPoint.getRemoteSocketAddress());
      this.proxySource = null;
    }
  }

  /**
   * Snapshots the headers, cookies and query parameters, and with {@code release} drops the
   * reference to the Jetty request so that a long-lived tunnel does not keep it. Call once, while
   * the Jetty request is still live.
   */
  void detach(boolean release) {
    Request r = request;
    if (r == null || snapshot != null) {
      return;
    }
    snapshot = new Snapshot(r.getHeaders().asImmutable(), List.copyOf(cookies(r)), query(r));
    if (release) {
      request = null;
    }
  }

  /**
   * Drops the reference to the Jetty request without copying anything: for a tunnel, whose decision
   * needs nothing from the request after the handshake. Later reads see no headers, cookies or
   * parameters.
   */
  void release() {
    if (snapshot == null) {
      snapshot = RELEASED;
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

  private static InetSocketAddress inet(@Nullable SocketAddress address) {
    return address instanceof InetSocketAddress ? (InetSocketAddress) address : UNKNOWN;
  }

  @Override
  public InetSocketAddress remoteAddress() {
    return peer;
  }

  @Override
  public @Nullable InetSocketAddress proxyProtocolSourceAddress() {
    return proxySource;
  }

  @Override
  public boolean isSecure() {
    return secure;
  }

  @Override
  public String method() {
    return method;
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public @Nullable String header(String name) {
    return headers().get(name);
  }

  @Override
  public List<String> headers(String name) {
    return headers().getValuesList(name);
  }

  @Override
  public @Nullable String queryParameter(String name) {
    Snapshot s = snapshot;
    Request r = request;
    return (s != null || r == null ? settled().query : query(r)).getValue(name);
  }

  @Override
  public @Nullable String cookie(String name) {
    Snapshot s = snapshot;
    Request r = request;
    for (HttpCookie cookie : s != null || r == null ? settled().cookies : cookies(r)) {
      if (cookie.getName().equals(name)) {
        return cookie.getValue();
      }
    }
    return null;
  }

  private HttpFields headers() {
    Snapshot s = snapshot;
    Request r = request;
    return s != null || r == null ? settled().headers : r.getHeaders();
  }

  /** The snapshot, once it exists; it does whenever the request reference has been dropped. */
  private Snapshot settled() {
    Snapshot s = snapshot;
    if (s == null) {
      throw new IllegalStateException("detached without a snapshot"); // unreachable by detach()
    }
    return s;
  }

  private List<HttpCookie> cookies(Request r) {
    List<HttpCookie> c = cookies;
    if (c == null) {
      try {
        c = Request.getCookies(r);
      } catch (RuntimeException e) { // a Cookie header Jetty's parser refuses: no cookies
        c = List.of();
      }
      cookies = c;
    }
    return c;
  }

  private Fields query(Request r) {
    Fields q = query;
    if (q == null) {
      try {
        q = Request.extractQueryParameters(r);
      } catch (RuntimeException e) { // bad percent-encoding: no parameters rather than a failure
        q = Fields.EMPTY;
      }
      query = q;
    }
    return q;
  }

  /** The handshake as the router sees it, without header values (they may hold tokens). */
  @Override
  public String toString() {
    return "JettyRoutingRequest{" + method + " " + path + " from " + peer + "}";
  }

  private static final class Snapshot {
    final HttpFields headers;
    final List<HttpCookie> cookies;
    final Fields query;

    Snapshot(HttpFields headers, List<HttpCookie> cookies, Fields query) {
      this.headers = headers;
      this.cookies = cookies;
      this.query = query;
    }
  }
}

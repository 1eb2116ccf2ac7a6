package dev.affinity.jetty;

import dev.affinity.RoutingRequest;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import org.eclipse.jetty.http.HttpCookie;
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
 */
final class JettyRoutingRequest implements RoutingRequest {
  private static final InetSocketAddress UNKNOWN = new InetSocketAddress("0.0.0.0", 0);

  private final Request request;
  private final InetSocketAddress peer;
  private final @Nullable InetSocketAddress proxySource;
  private @Nullable List<HttpCookie> cookies;
  private @Nullable Fields query;

  JettyRoutingRequest(Request request) {
    this.request = request;
    EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
    ProxyConnectionFactory.ProxyEndPoint proxied = findProxyEndPoint(endPoint);
    if (proxied != null) {
      this.peer = inet(proxied.unwrap().getRemoteSocketAddress());
      InetSocketAddress source = inet(proxied.getRemoteSocketAddress());
      // A PROXY "LOCAL" command (health checks) carries no source: Jetty reports the peer itself.
      this.proxySource = source.equals(peer) || source == UNKNOWN ? null : source;
    } else {
      this.peer = inet(endPoint.getRemoteSocketAddress());
      this.proxySource = null;
    }
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
    return request.isSecure();
  }

  @Override
  public String method() {
    return request.getMethod();
  }

  @Override
  public String path() {
    String path = request.getHttpURI().getPath();
    return path == null ? "/" : path;
  }

  @Override
  public @Nullable String header(String name) {
    return request.getHeaders().get(name);
  }

  @Override
  public List<String> headers(String name) {
    return request.getHeaders().getValuesList(name);
  }

  @Override
  public @Nullable String queryParameter(String name) {
    Fields q = query;
    if (q == null) {
      try {
        q = Request.extractQueryParameters(request);
      } catch (RuntimeException e) { // bad percent-encoding: no parameters rather than a failure
        q = Fields.EMPTY;
      }
      query = q;
    }
    return q.getValue(name);
  }

  @Override
  public @Nullable String cookie(String name) {
    List<HttpCookie> c = cookies;
    if (c == null) {
      try {
        c = Request.getCookies(request);
      } catch (RuntimeException e) { // a Cookie header Jetty's parser refuses: no cookies
        c = List.of();
      }
      cookies = c;
    }
    for (HttpCookie cookie : c) {
      if (cookie.getName().equals(name)) {
        return cookie.getValue();
      }
    }
    return null;
  }

  /** The handshake as the router sees it, without header values (they may hold tokens). */
  @Override
  public String toString() {
    return "JettyRoutingRequest{" + method() + " " + path() + " from " + peer + "}";
  }
}

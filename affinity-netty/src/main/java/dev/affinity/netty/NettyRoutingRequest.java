package dev.affinity.netty;

import dev.affinity.RoutingRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * {@link RoutingRequest} over a Netty request head: headers are read in place; the query string and
 * the cookies are parsed only if a strategy asks, once. Used on one event loop only.
 */
final class NettyRoutingRequest implements RoutingRequest {
  private static final InetSocketAddress UNKNOWN = new InetSocketAddress("0.0.0.0", 0);

  private final HttpRequest request;
  private final InetSocketAddress remote;
  private final @Nullable InetSocketAddress proxySource;
  private final boolean secure;
  private @Nullable QueryStringDecoder query;
  private @Nullable Map<String, String> cookies;

  NettyRoutingRequest(
      HttpRequest request,
      java.net.@Nullable SocketAddress remote,
      @Nullable InetSocketAddress proxySource,
      boolean secure) {
    this.request = request;
    this.remote = remote instanceof InetSocketAddress ? (InetSocketAddress) remote : UNKNOWN;
    this.proxySource = proxySource;
    this.secure = secure;
  }

  @Override
  public InetSocketAddress remoteAddress() {
    return remote;
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
    return request.method().name();
  }

  @Override
  public String path() {
    return query().rawPath();
  }

  @Override
  public @Nullable String header(String name) {
    return request.headers().get(name);
  }

  @Override
  public List<String> headers(String name) {
    return request.headers().getAll(name);
  }

  @Override
  public @Nullable String queryParameter(String name) {
    Map<String, List<String>> params;
    try {
      params = query().parameters();
    } catch (IllegalArgumentException e) {
      return null; // bad percent-encoding: the parameter cannot be read, so it is absent
    }
    List<String> values = params.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  @Override
  public @Nullable String cookie(String name) {
    Map<String, String> c = cookies;
    if (c == null) {
      c = new HashMap<>();
      for (String header : request.headers().getAll(HttpHeaderNames.COOKIE)) {
        for (Cookie cookie : ServerCookieDecoder.STRICT.decodeAll(header)) {
          c.putIfAbsent(cookie.name(), cookie.value());
        }
      }
      cookies = c;
    }
    return c.get(name);
  }

  private QueryStringDecoder query() {
    QueryStringDecoder q = query;
    if (q == null) {
      q = new QueryStringDecoder(request.uri());
      query = q;
    }
    return q;
  }

  /** Method, path and peer; never headers, cookies or the query (they may hold secrets). */
  @Override
  public String toString() {
    return "NettyRoutingRequest{" + method() + " " + path() + " from " + remote + "}";
  }
}

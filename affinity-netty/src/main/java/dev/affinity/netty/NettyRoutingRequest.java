package dev.affinity.netty;

import dev.affinity.RoutingRequest;
import dev.affinity.internal.http.AdapterRoutingRequest;
import io.netty.handler.codec.http.HttpRequest;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * {@link RoutingRequest} over a Netty request head: headers are read in place; cookies and the
 * query are parsed by the rules both adapters share ({@link AdapterRoutingRequest}), only if a
 * strategy asks, once. Used on one event loop only.
 */
final class NettyRoutingRequest extends AdapterRoutingRequest {
  private final HttpRequest request;

  NettyRoutingRequest(
      HttpRequest request,
      @Nullable SocketAddress remote,
      @Nullable InetSocketAddress proxySource,
      boolean secure) {
    super(remote, proxySource, secure, request.method().name(), path(request.uri()));
    this.request = request;
  }

  private static String path(String uri) {
    int end = end(uri);
    return end == uri.length() ? uri : uri.substring(0, end);
  }

  /** Where the path of a request target ends: its {@code ?} or {@code #}, or its length. */
  private static int end(String uri) {
    for (int i = 0; i < uri.length(); i++) {
      char c = uri.charAt(i);
      if (c == '?' || c == '#') {
        return i;
      }
    }
    return uri.length();
  }

  @Override
  protected @Nullable String rawQuery() {
    String uri = request.uri();
    int q = uri.indexOf('?');
    if (q < 0) {
      return null;
    }
    int hash = uri.indexOf('#', q);
    return uri.substring(q + 1, hash < 0 ? uri.length() : hash);
  }

  @Override
  public @Nullable String header(String name) {
    return request.headers().get(name);
  }

  @Override
  public List<String> headers(String name) {
    return request.headers().getAll(name);
  }
}

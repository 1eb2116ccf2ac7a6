package dev.affinity;

import static java.util.Objects.requireNonNull;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableListMultimap;
import com.google.common.collect.ImmutableMap;
import com.google.common.net.InetAddresses;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Builds a {@link RoutingRequest} by hand. Obtain one from {@link RoutingRequest#builder()}.
 *
 * <p>Defaults: remote address {@code 127.0.0.1:0}, method {@code GET}, path {@code /}, not secure,
 * no headers, query parameters or cookies. Values are taken as given: no parsing or decoding.
 */
public final class RoutingRequestBuilder {
  private InetSocketAddress remoteAddress =
      new InetSocketAddress(InetAddresses.forString("127.0.0.1"), 0);
  private @Nullable InetSocketAddress proxyProtocolSource;
  private boolean secure;
  private String method = "GET";
  private String path = "/";
  private final ImmutableListMultimap.Builder<String, String> headers =
      ImmutableListMultimap.builder();
  private final Map<String, String> query = new LinkedHashMap<>();
  private final Map<String, String> cookies = new LinkedHashMap<>();

  RoutingRequestBuilder() {}

  /** The TCP peer's address. */
  public RoutingRequestBuilder remoteAddress(InetSocketAddress remoteAddress) {
    this.remoteAddress = requireNonNull(remoteAddress, "remoteAddress");
    return this;
  }

  /**
   * The TCP peer's address, from an IP literal and a port. Anything but a literal is resolved by
   * {@link InetSocketAddress#InetSocketAddress(String, int)}, which looks the name up in DNS and
   * blocks the caller: pass an {@link InetSocketAddress} you resolved yourself if you must use a
   * name.
   */
  public RoutingRequestBuilder remoteAddress(String ip, int port) {
    return remoteAddress(new InetSocketAddress(requireNonNull(ip, "ip"), port));
  }

  /** The source address a PROXY protocol header announced. */
  public RoutingRequestBuilder proxyProtocolSourceAddress(@Nullable InetSocketAddress source) {
    this.proxyProtocolSource = source;
    return this;
  }

  /** Whether the client connection is TLS. */
  public RoutingRequestBuilder secure(boolean secure) {
    this.secure = secure;
    return this;
  }

  /** The HTTP method. */
  public RoutingRequestBuilder method(String method) {
    this.method = requireNonNull(method, "method");
    return this;
  }

  /** The path, without a query string. */
  public RoutingRequestBuilder path(String path) {
    this.path = requireNonNull(path, "path");
    return this;
  }

  /** Adds one header value; call again to add more values of the same header. */
  public RoutingRequestBuilder header(String name, String value) {
    headers.put(
        requireNonNull(name, "name").toLowerCase(Locale.ROOT), requireNonNull(value, "value"));
    return this;
  }

  /** Sets a decoded query parameter; the first value set for a name wins. */
  public RoutingRequestBuilder queryParameter(String name, String value) {
    query.putIfAbsent(requireNonNull(name, "name"), requireNonNull(value, "value"));
    return this;
  }

  /** Sets a cookie, as a cookie parser would have produced it; the first value set wins. */
  public RoutingRequestBuilder cookie(String name, String value) {
    cookies.putIfAbsent(requireNonNull(name, "name"), requireNonNull(value, "value"));
    return this;
  }

  /** Returns an immutable request. */
  public RoutingRequest build() {
    return new Built(
        remoteAddress,
        proxyProtocolSource,
        secure,
        method,
        path,
        headers.build(),
        ImmutableMap.copyOf(query),
        ImmutableMap.copyOf(cookies));
  }

  private static final class Built implements RoutingRequest {
    private final InetSocketAddress remoteAddress;
    private final @Nullable InetSocketAddress proxyProtocolSource;
    private final boolean secure;
    private final String method;
    private final String path;
    private final ImmutableListMultimap<String, String> headers;
    private final ImmutableMap<String, String> query;
    private final ImmutableMap<String, String> cookies;

    Built(
        InetSocketAddress remoteAddress,
        @Nullable InetSocketAddress proxyProtocolSource,
        boolean secure,
        String method,
        String path,
        ImmutableListMultimap<String, String> headers,
        ImmutableMap<String, String> query,
        ImmutableMap<String, String> cookies) {
      this.remoteAddress = remoteAddress;
      this.proxyProtocolSource = proxyProtocolSource;
      this.secure = secure;
      this.method = method;
      this.path = path;
      this.headers = headers;
      this.query = query;
      this.cookies = cookies;
    }

    @Override
    public InetSocketAddress remoteAddress() {
      return remoteAddress;
    }

    @Override
    public @Nullable InetSocketAddress proxyProtocolSourceAddress() {
      return proxyProtocolSource;
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
      ImmutableList<String> values = headers.get(name.toLowerCase(Locale.ROOT));
      return values.isEmpty() ? null : values.get(0);
    }

    @Override
    public List<String> headers(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    @Override
    public @Nullable String queryParameter(String name) {
      return query.get(name);
    }

    @Override
    public @Nullable String cookie(String name) {
      return cookies.get(name);
    }

    @Override
    public String toString() {
      // Header, query and cookie values may carry secrets: only names are shown.
      return "RoutingRequest{"
          + method
          + " "
          + path
          + " from "
          + remoteAddress
          + ", headers="
          + headers.keySet()
          + ", query="
          + query.keySet()
          + ", cookies="
          + cookies.keySet()
          + "}";
    }
  }
}

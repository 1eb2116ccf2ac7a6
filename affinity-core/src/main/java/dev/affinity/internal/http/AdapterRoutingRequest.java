package dev.affinity.internal.http;

import static dev.affinity.internal.http.CookieSyntax.isCookieValue;
import static dev.affinity.internal.http.CookieSyntax.isToken;
import static java.util.Objects.requireNonNull;

import dev.affinity.RoutingRequest;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The {@link RoutingRequest} both adapters hand the router, written once: the peer, PROXY-protocol
 * source, scheme, method and path given at construction, and cookies and query parameters parsed by
 * the same rules on either adapter, on first use only. The adapter supplies only the header lookups
 * ({@link #header}, {@link #headers}), straight from its own header type, and the raw query string.
 * Nothing throws. Not API.
 *
 * <p>Cookies (RFC 6265 section 4.2.1): every {@code Cookie} field, in order, split at {@code ;}; a
 * pair whose name is not a token or whose value (without one pair of surrounding quotes) holds
 * anything but cookie-octets is skipped; the first value of a name wins. Query parameters: the raw
 * query split at {@code &}, each name and value percent-decoded as UTF-8 with {@code +} as a space;
 * a parameter without {@code =} has the value {@code ""}; the first value of a name wins; bad
 * percent-encoding anywhere makes the whole query unreadable (no parameters), rather than a
 * failure.
 */
public abstract class AdapterRoutingRequest implements RoutingRequest {
  private static final InetSocketAddress UNKNOWN = new InetSocketAddress("0.0.0.0", 0);

  private final InetSocketAddress peer;
  private final @Nullable InetSocketAddress proxySource;
  private final boolean secure;
  private final String method;
  private final String path;
  // Immutable maps (final fields inside) computed at most a few times: a racy first use on two
  // threads parses twice and publishes equal values, so the fields need no lock or volatile.
  private @Nullable Map<String, String> cookies;
  private @Nullable Map<String, String> query;

  /**
   * The view of one request.
   *
   * @param peer the TCP peer; anything but an {@link InetSocketAddress} (or {@code null}) reads as
   *     {@code 0.0.0.0:0}
   * @param proxySource the client a PROXY-protocol header named, or {@code null}
   * @param secure whether the client connection is TLS
   * @param method the request method
   * @param path the path of the request target, without the query
   */
  protected AdapterRoutingRequest(
      @Nullable SocketAddress peer,
      @Nullable InetSocketAddress proxySource,
      boolean secure,
      String method,
      String path) {
    this.peer = inet(peer);
    this.proxySource = proxySource;
    this.secure = secure;
    this.method = requireNonNull(method, "method");
    this.path = requireNonNull(path, "path");
  }

  /** {@code address} if it is an {@link InetSocketAddress}, {@code 0.0.0.0:0} otherwise. */
  protected static InetSocketAddress inet(@Nullable SocketAddress address) {
    return address instanceof InetSocketAddress ? (InetSocketAddress) address : UNKNOWN;
  }

  /** Whether {@code address} is the {@code 0.0.0.0:0} that stands for an unknown address. */
  protected static boolean isUnknown(InetSocketAddress address) {
    return UNKNOWN.equals(address);
  }

  /** The query string of the request target, undecoded and without the {@code ?}, or null. */
  protected abstract @Nullable String rawQuery();

  /** Parses the cookies and the query now, so later reads need no header access. */
  protected final void parseAll() {
    cookies();
    query();
  }

  @Override
  public final InetSocketAddress remoteAddress() {
    return peer;
  }

  @Override
  public final @Nullable InetSocketAddress proxyProtocolSourceAddress() {
    return proxySource;
  }

  @Override
  public final boolean isSecure() {
    return secure;
  }

  @Override
  public final String method() {
    return method;
  }

  @Override
  public final String path() {
    return path;
  }

  @Override
  public final @Nullable String queryParameter(String name) {
    return query().get(name);
  }

  @Override
  public final @Nullable String cookie(String name) {
    return cookies().get(name);
  }

  private Map<String, String> cookies() {
    Map<String, String> c = cookies;
    if (c == null) {
      c = parseCookies(headers("Cookie"));
      cookies = c;
    }
    return c;
  }

  private Map<String, String> query() {
    Map<String, String> q = query;
    if (q == null) {
      q = parseQuery(rawQuery());
      query = q;
    }
    return q;
  }

  /** The cookies in these {@code Cookie} field values, by the rules in the class comment. */
  static Map<String, String> parseCookies(List<String> fields) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String field : fields) {
      int start = 0;
      while (start <= field.length()) {
        int end = field.indexOf(';', start);
        if (end < 0) {
          end = field.length();
        }
        String pair = trimOws(field.substring(start, end));
        int eq = pair.indexOf('=');
        if (eq > 0) {
          String name = pair.substring(0, eq);
          String value = pair.substring(eq + 1);
          if (value.length() >= 2 && value.charAt(0) == '"' && value.endsWith("\"")) {
            value = value.substring(1, value.length() - 1);
          }
          if (isToken(name) && isCookieValue(value)) {
            out.putIfAbsent(name, value);
          }
        }
        start = end + 1;
      }
    }
    return Map.copyOf(out);
  }

  /** The parameters of this raw query, by the rules in the class comment. */
  static Map<String, String> parseQuery(@Nullable String raw) {
    if (raw == null || raw.isEmpty()) {
      return Map.of();
    }
    Map<String, String> out = new LinkedHashMap<>();
    try {
      for (String part : raw.split("&", -1)) {
        if (part.isEmpty()) {
          continue;
        }
        int eq = part.indexOf('=');
        String name =
            URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
        String value =
            eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
        out.putIfAbsent(name, value);
      }
    } catch (IllegalArgumentException e) { // bad percent-encoding: no parameters, not a failure
      return Map.of();
    }
    return Map.copyOf(out);
  }

  private static String trimOws(String s) {
    int from = 0;
    int to = s.length();
    while (from < to && (s.charAt(from) == ' ' || s.charAt(from) == '\t')) {
      from++;
    }
    while (to > from && (s.charAt(to - 1) == ' ' || s.charAt(to - 1) == '\t')) {
      to--;
    }
    return s.substring(from, to);
  }

  /** Method, path and peer; never headers, cookies or the query (they may hold secrets). */
  @Override
  public String toString() {
    return getClass().getSimpleName() + "{" + method + " " + path + " from " + peer + "}";
  }
}

package dev.affinity.internal.http;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The hop-by-hop header rule of both adapters' HTTP path (RFC 9110 section 7.6.1): a proxy removes
 * {@code Connection}, every field the {@code Connection} header names, and the fields that are
 * hop-by-hop by definition ({@code Keep-Alive}, {@code Proxy-Connection}, {@code TE}, {@code
 * Trailer}, {@code Transfer-Encoding}, {@code Upgrade}) before forwarding a message, both ways. Not
 * API.
 *
 * <p>Forwarded headers ({@code Forwarded}, {@code X-Forwarded-*}) are not hop-by-hop here: the
 * adapters replace or append to them through {@link ForwardedHeaders}, as for WebSocket handshakes.
 *
 * <pre>{@code
 * Set<String> options = HopByHop.connectionOptions(request.headers("Connection"));
 * for (String name : request.headerNames()) {
 *   if (!HopByHop.isHopByHop(name, options)) {
 *     forward(name);
 *   }
 * }
 * }</pre>
 */
public final class HopByHop {
  /** The fields that are hop-by-hop whatever {@code Connection} says, in lower case. */
  public static final Set<String> ALWAYS =
      Set.of(
          "connection",
          "keep-alive",
          "proxy-connection",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade");

  private HopByHop() {}

  /**
   * The connection options of a message: the field names its {@code Connection} header values list,
   * in lower case, with comma lists split and optional whitespace around them dropped (empty list
   * elements are ignored, as RFC 9110 section 5.6.1 asks).
   *
   * @throws NullPointerException if the list or a value is null
   */
  public static Set<String> connectionOptions(List<String> connectionHeaderValues) {
    requireNonNull(connectionHeaderValues, "connectionHeaderValues");
    if (connectionHeaderValues.isEmpty()) {
      return Set.of();
    }
    Set<String> options = new LinkedHashSet<>();
    for (String value : connectionHeaderValues) {
      requireNonNull(value, "connectionHeaderValues");
      for (String token : value.split(",", -1)) {
        String t = token.strip();
        if (!t.isEmpty()) {
          options.add(t.toLowerCase(Locale.ROOT));
        }
      }
    }
    return Set.copyOf(options);
  }

  /**
   * Whether a proxy must not forward field {@code fieldName} (compared case-insensitively): one of
   * {@link #ALWAYS} or one of {@code connectionOptions} (from {@link #connectionOptions}).
   *
   * @throws NullPointerException if an argument is null
   */
  public static boolean isHopByHop(String fieldName, Set<String> connectionOptions) {
    requireNonNull(fieldName, "fieldName");
    requireNonNull(connectionOptions, "connectionOptions");
    String lower = fieldName.toLowerCase(Locale.ROOT);
    return ALWAYS.contains(lower) || connectionOptions.contains(lower);
  }
}

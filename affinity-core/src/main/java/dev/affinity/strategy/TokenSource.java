package dev.affinity.strategy;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.RoutingRequest;
import java.util.List;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Where {@linkplain JwtAffinity JWT affinity} looks for a token. Sources are tried in the order
 * configured; the first one that holds a token is used, valid or not.
 *
 * <pre>{@code
 * JwtAffinity.builder(JwtAlgorithm.RS256, publicKey)
 *     .sources(TokenSource.authorizationBearer(),          // non-browser clients
 *              TokenSource.webSocketProtocol("bearer."),   // browsers: new WebSocket(url, [..])
 *              TokenSource.cookie("access_token"))
 * }</pre>
 *
 * <p>Browsers cannot set headers on a WebSocket handshake, which is why the {@code
 * Sec-WebSocket-Protocol} list and cookies are offered. Query parameters work everywhere but end up
 * in access logs and browser history; prefer the others.
 */
public final class TokenSource {
  /** The prefix {@link #webSocketProtocol()} looks for. */
  public static final String DEFAULT_PROTOCOL_PREFIX = "bearer.";

  /** The length of {@code "Bearer "}, where the token starts in an {@code Authorization} value. */
  private static final int BEARER_PREFIX = 7;

  private final String description;
  private final Function<RoutingRequest, @Nullable String> carrier;
  private final boolean bearer;

  /**
   * @param carrier reads the text that holds the token: the token itself, or (when {@code bearer})
   *     a whole {@code Authorization} value that holds a non-blank token after {@code "Bearer "}
   */
  private TokenSource(
      String description, Function<RoutingRequest, @Nullable String> carrier, boolean bearer) {
    this.description = description;
    this.carrier = carrier;
    this.bearer = bearer;
  }

  /**
   * The {@code Authorization: Bearer <token>} header (RFC 6750): the first {@code Authorization}
   * header, scheme matched case-insensitively.
   */
  public static TokenSource authorizationBearer() {
    return new TokenSource("Authorization: Bearer", TokenSource::bearerHeader, true);
  }

  /**
   * A cookie, as parsed by the adapter's cookie parser.
   *
   * @throws AffinityConfigurationException if the name is empty
   */
  public static TokenSource cookie(String name) {
    requireNonNull(name, "name");
    check(!name.isEmpty(), "name", "''", "a cookie name");
    return new TokenSource("cookie " + name, r -> r.cookie(name), false);
  }

  /**
   * A decoded query parameter.
   *
   * @throws AffinityConfigurationException if the name is empty
   */
  public static TokenSource queryParameter(String name) {
    requireNonNull(name, "name");
    check(!name.isEmpty(), "name", "''", "a parameter name");
    return new TokenSource("query parameter " + name, r -> r.queryParameter(name), false);
  }

  /** {@link #webSocketProtocol(String)} with the prefix {@value #DEFAULT_PROTOCOL_PREFIX}. */
  public static TokenSource webSocketProtocol() {
    return webSocketProtocol(DEFAULT_PROTOCOL_PREFIX);
  }

  /**
   * An entry of the {@code Sec-WebSocket-Protocol} list that starts with {@code prefix}; the token
   * is the rest of the entry. A browser offers it next to the real subprotocol:
   *
   * <pre>{@code
   * new WebSocket("wss://chat.example.com/ws", ["chat.v2", "bearer." + token]);
   * }</pre>
   *
   * <p>The entry is forwarded to the backend with the rest of the handshake; the backend must
   * answer with the real subprotocol ({@code chat.v2}), never with the token entry. A JWT is made
   * of characters that are valid in a subprotocol token (letters, digits, {@code - _ .}), so no
   * encoding is needed. Entries are split on commas across every {@code Sec-WebSocket-Protocol}
   * header and trimmed; the first entry with the prefix is used.
   *
   * @throws AffinityConfigurationException if the prefix is empty or not made of token characters
   */
  public static TokenSource webSocketProtocol(String prefix) {
    requireNonNull(prefix, "prefix");
    check(
        !prefix.isEmpty() && prefix.chars().allMatch(TokenSource::isTchar),
        "prefix",
        "'" + prefix + "'",
        "RFC 7230 token characters");
    return new TokenSource(
        "Sec-WebSocket-Protocol entry " + prefix + "*", r -> protocolEntry(r, prefix), false);
  }

  /**
   * The text in {@code request} that holds a token, or null when it holds none; never throws. The
   * token is {@link #tokenIn} of it, a pure function: equal carriers from one source hold equal
   * tokens, which lets a cache of verified tokens be keyed by the carrier without copying the token
   * out of it.
   */
  @Nullable String carrier(RoutingRequest request) {
    String c;
    try {
      c = carrier.apply(request);
    } catch (RuntimeException e) {
      return null;
    }
    return c == null || c.isEmpty() ? null : c;
  }

  /** The token held by a {@link #carrier} of this source. */
  String tokenIn(String carrier) {
    return bearer ? carrier.substring(BEARER_PREFIX).strip() : carrier;
  }

  /** What this source reads, for explanations. */
  public String description() {
    return description;
  }

  /** The first {@code Authorization} value if it is {@code Bearer} and a non-blank token. */
  private static @Nullable String bearerHeader(RoutingRequest r) {
    // Asked in lower case: header names are case-insensitive, and views then skip a per-call copy.
    String h = r.header("authorization");
    if (h == null
        || h.length() <= BEARER_PREFIX
        || !h.regionMatches(true, 0, "Bearer ", 0, BEARER_PREFIX)) {
      return null;
    }
    for (int i = BEARER_PREFIX; i < h.length(); i++) {
      if (!Character.isWhitespace(h.charAt(i))) {
        return h;
      }
    }
    return null;
  }

  private static @Nullable String protocolEntry(RoutingRequest r, String prefix) {
    List<String> headers = r.headers("sec-websocket-protocol");
    for (String h : headers) {
      int start = 0;
      while (start <= h.length()) {
        int comma = h.indexOf(',', start);
        int end = comma < 0 ? h.length() : comma;
        String entry = h.substring(start, end).strip();
        if (entry.startsWith(prefix) && entry.length() > prefix.length()) {
          return entry.substring(prefix.length());
        }
        if (comma < 0) {
          break;
        }
        start = comma + 1;
      }
    }
    return null;
  }

  private static boolean isTchar(int c) {
    return c > 0x20 && c < 0x7f && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
  }

  @Override
  public String toString() {
    return "TokenSource{" + description + "}";
  }
}

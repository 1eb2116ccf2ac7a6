package dev.affinity.internal.http;

import static java.util.Objects.requireNonNull;

import dev.affinity.internal.Checks;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Which plain (non-upgrade) HTTP requests an adapter proxies to the routed backend: {@link #none()}
 * (the default: such requests get today's answer, a 426 or the wrapped handler), {@link #all()}, or
 * {@link #paths the requests under some path prefixes}. Immutable. Not API.
 *
 * <pre>{@code
 * HttpScope scope = HttpScope.paths(List.of("/socket.io/*"));
 * scope.covers("/socket.io/");      // true
 * scope.covers("/socket.io");       // true
 * scope.covers("/socket.iox");      // false: prefixes match whole segments
 * HttpScope.parse("on").isAll();    // true, as the proxy's --http on
 * }</pre>
 */
public final class HttpScope {
  private static final HttpScope NONE = new HttpScope(false, List.of());
  private static final HttpScope ALL = new HttpScope(true, List.of());
  private static final String EXPECTED_PREFIX =
      "a path prefix starting with / such as /socket.io, without ?, # or spaces";

  private final boolean all;
  private final List<String> prefixes;

  private HttpScope(boolean all, List<String> prefixes) {
    this.all = all;
    this.prefixes = prefixes;
  }

  /** No plain HTTP request is proxied: the adapters' behaviour without the option. */
  public static HttpScope none() {
    return NONE;
  }

  /** Every plain HTTP request is proxied. */
  public static HttpScope all() {
    return ALL;
  }

  /**
   * The requests whose path is one of {@code prefixes} or lies under it, segment by segment: {@code
   * "/socket.io"}, {@code "/socket.io/"} and {@code "/socket.io/*"} all mean {@code /socket.io} and
   * everything under {@code /socket.io/}, but not {@code /socket.iox}. Paths are compared
   * case-sensitively and percent-encodings as written. A prefix of {@code "/"} (or {@code "/*"})
   * covers every path and gives {@link #all()}. Duplicates are dropped, order is kept.
   *
   * @throws dev.affinity.AffinityConfigurationException if the list is empty, or a prefix is blank,
   *     does not start with {@code /}, or has a {@code ?}, {@code #}, {@code *} (other than a
   *     trailing {@code /*}), a space or a character outside visible ASCII
   * @throws NullPointerException if the list or a prefix is null
   */
  public static HttpScope paths(List<String> prefixes) {
    return paths("proxyHttpPaths", prefixes);
  }

  private static HttpScope paths(String field, List<String> prefixes) {
    requireNonNull(prefixes, field);
    Checks.check(!prefixes.isEmpty(), field, prefixes, "at least one path prefix");
    Set<String> normal = new LinkedHashSet<>();
    for (String p : prefixes) {
      requireNonNull(p, field);
      String n = normalize(p);
      Checks.check(n != null, field, "\"" + p + "\"", EXPECTED_PREFIX);
      if (n != null) {
        if (n.isEmpty()) {
          return ALL;
        }
        normal.add(n);
      }
    }
    return new HttpScope(false, List.copyOf(normal));
  }

  /**
   * The prefix without a trailing {@code /} or {@code /*} ("" for the root), or null if invalid.
   */
  private static @Nullable String normalize(String p) {
    if (p.isEmpty() || p.charAt(0) != '/') {
      return null;
    }
    String n = p;
    if (n.endsWith("/*")) {
      n = n.substring(0, n.length() - 2);
    } else if (n.endsWith("/")) {
      n = n.substring(0, n.length() - 1);
    }
    for (int i = 0; i < n.length(); i++) {
      char c = n.charAt(i);
      if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#' || c == '*') {
        return null;
      }
    }
    if (n.endsWith("/")) {
      return null; // "//" or "/a//": an empty segment covers nothing a request can name
    }
    return n;
  }

  /**
   * Parses the runnable proxy's {@code --http} value: {@code on} ({@link #all()}), {@code off}
   * ({@link #none()}), or a comma-separated list of path prefixes for {@link #paths} (spaces around
   * the commas are ignored). {@code on} and {@code off} are case-insensitive.
   *
   * @throws dev.affinity.AffinityConfigurationException if {@code spec} is none of these
   * @throws NullPointerException if {@code spec} is null
   */
  public static HttpScope parse(String spec) {
    requireNonNull(spec, "http");
    String s = spec.trim();
    String lower = s.toLowerCase(Locale.ROOT);
    if (lower.equals("on")) {
      return ALL;
    }
    if (lower.equals("off")) {
      return NONE;
    }
    Checks.check(
        s.startsWith("/"),
        "http",
        "\"" + spec + "\"",
        "on, off or comma-separated path prefixes such as /socket.io,/sockjs");
    List<String> list = new ArrayList<>();
    for (String part : s.split(",", -1)) {
      list.add(part.trim());
    }
    return paths("http", list);
  }

  /**
   * Whether a request for {@code path} is proxied. {@code path} is the path of an origin-form
   * request target; a query ({@code ?...}), if still attached, is ignored.
   */
  public boolean covers(String path) {
    if (all) {
      return true;
    }
    if (prefixes.isEmpty()) {
      return false;
    }
    int q = path.indexOf('?');
    int end = q < 0 ? path.length() : q;
    for (String p : prefixes) {
      int n = p.length();
      if (path.startsWith(p) && (end == n || (end > n && path.charAt(n) == '/'))) {
        return true;
      }
    }
    return false;
  }

  /** Whether nothing is proxied ({@link #none()}). */
  public boolean isNone() {
    return !all && prefixes.isEmpty();
  }

  /** Whether everything is proxied ({@link #all()}). */
  public boolean isAll() {
    return all;
  }

  /**
   * The normalized prefixes of a {@link #paths} scope (no trailing {@code /} or {@code /*}); empty
   * for {@link #none()} and {@link #all()}.
   */
  public List<String> prefixes() {
    return prefixes;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof HttpScope
        && ((HttpScope) o).all == all
        && ((HttpScope) o).prefixes.equals(prefixes);
  }

  @Override
  public int hashCode() {
    return Boolean.hashCode(all) * 31 + prefixes.hashCode();
  }

  /** Reads like the call that made it: {@code HttpScope.paths([/socket.io])}. */
  @Override
  public String toString() {
    if (all) {
      return "HttpScope.all()";
    }
    return prefixes.isEmpty() ? "HttpScope.none()" : "HttpScope.paths(" + prefixes + ")";
  }
}

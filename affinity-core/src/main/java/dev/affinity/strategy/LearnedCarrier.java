package dev.affinity.strategy;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.RoutingRequest;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Where a learned value travels: the name of a cookie or header that a backend sets in its 101
 * response and that clients send back on later handshakes. See {@link AffinityStrategy#learned}.
 *
 * <pre>{@code
 * LearnedCarrier.cookie("JSESSIONID")   // Set-Cookie: JSESSIONID=... then Cookie: JSESSIONID=...
 * LearnedCarrier.header("X-Room-Id")    // X-Room-Id in the 101, then X-Room-Id on the handshake
 * }</pre>
 */
public final class LearnedCarrier {
  private final boolean cookie;
  private final String name;

  private LearnedCarrier(boolean cookie, String name) {
    this.cookie = cookie;
    this.name = name;
  }

  /**
   * A cookie the backend sets with {@code Set-Cookie} on its 101 response and the browser sends
   * back with {@code Cookie}.
   *
   * @throws dev.affinity.AffinityConfigurationException if the name is not a cookie name token
   */
  public static LearnedCarrier cookie(String name) {
    requireNonNull(name, "name");
    check(isToken(name), "name", "'" + name + "'", "a cookie name (an HTTP token)");
    return new LearnedCarrier(true, name);
  }

  /**
   * A header the backend sets on its 101 response and the client sends on later handshakes.
   *
   * @throws dev.affinity.AffinityConfigurationException if the name is not a header name token
   */
  public static LearnedCarrier header(String name) {
    requireNonNull(name, "name");
    check(isToken(name), "name", "'" + name + "'", "a header name (an HTTP token)");
    return new LearnedCarrier(false, name);
  }

  /** The value a handshake carries, or null. */
  public @Nullable String fromRequest(RoutingRequest request) {
    String v = cookie ? request.cookie(name) : request.header(name);
    return v == null || v.isEmpty() ? null : v;
  }

  /**
   * The value a backend's response sets, or null.
   *
   * @param headers the response's values of a header name (any case), empty when absent
   */
  public @Nullable String fromResponse(Function<String, List<String>> headers) {
    requireNonNull(headers, "headers");
    if (!cookie) {
      List<String> values = headers.apply(name);
      String v = values.isEmpty() ? null : values.get(0).trim();
      return v == null || v.isEmpty() ? null : v;
    }
    for (String setCookie : headers.apply("Set-Cookie")) {
      int eq = setCookie.indexOf('=');
      if (eq > 0 && setCookie.substring(0, eq).trim().equals(name)) {
        int semi = setCookie.indexOf(';', eq);
        String v =
            (semi < 0 ? setCookie.substring(eq + 1) : setCookie.substring(eq + 1, semi)).trim();
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
          v = v.substring(1, v.length() - 1);
        }
        return v.isEmpty() ? null : v;
      }
    }
    return null;
  }

  private static boolean isToken(String s) {
    if (s.isEmpty() || s.length() > 256) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c <= 0x20 || c >= 0x7f || "()<>@,;:\\\"/[]?={}".indexOf(c) >= 0) {
        return false;
      }
    }
    return true;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof LearnedCarrier
        && ((LearnedCarrier) o).cookie == cookie
        && ((LearnedCarrier) o).name.equals(name);
  }

  @Override
  public int hashCode() {
    return name.toLowerCase(Locale.ROOT).hashCode() * 31 + (cookie ? 1 : 0);
  }

  @Override
  public String toString() {
    return "LearnedCarrier." + (cookie ? "cookie" : "header") + "(\"" + name + "\")";
  }
}

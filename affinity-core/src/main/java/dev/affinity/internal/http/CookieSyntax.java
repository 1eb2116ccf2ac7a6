package dev.affinity.internal.http;

/**
 * The RFC 6265 cookie grammar, written once for the cookies the adapters read ({@link
 * AdapterRoutingRequest}) and the ones the router sets ({@code SetCookie}). Not API.
 */
public final class CookieSyntax {
  private CookieSyntax() {}

  /** Whether {@code s} is a cookie-name: a non-empty RFC 9110 token. */
  public static boolean isToken(String s) {
    if (s.isEmpty()) {
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

  /**
   * Whether {@code s} is all cookie-octets: US-ASCII but controls, whitespace, DQUOTE, comma,
   * semicolon and backslash (empty is allowed).
   */
  public static boolean isCookieValue(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x21 || c > 0x7e || c == '"' || c == ',' || c == ';' || c == '\\') {
        return false;
      }
    }
    return true;
  }
}

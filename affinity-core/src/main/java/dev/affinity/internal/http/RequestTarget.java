package dev.affinity.internal.http;

import org.jspecify.annotations.Nullable;

/**
 * The request target rule of both adapters (RFC 9112 section 3.2): origin-form ({@code
 * /path?query}) and absolute-form ({@code http://host/path?query}, also {@code https}, {@code ws},
 * {@code wss}) are accepted, and the backend is always sent the origin-form. Not API.
 */
public final class RequestTarget {
  private RequestTarget() {}

  /**
   * The origin-form of {@code target}, or null if it is neither origin-form nor absolute-form, or
   * has a character outside visible ASCII.
   */
  public static @Nullable String originForm(String target) {
    if (target.isEmpty()) {
      return null;
    }
    for (int i = 0; i < target.length(); i++) {
      char c = target.charAt(i);
      if (c <= 0x20 || c >= 0x7f) {
        return null;
      }
    }
    if (target.charAt(0) == '/') {
      return target;
    }
    int scheme = target.indexOf("://");
    if (scheme <= 0) {
      return null;
    }
    String s = target.substring(0, scheme).toLowerCase(java.util.Locale.ROOT);
    if (!s.equals("http") && !s.equals("https") && !s.equals("ws") && !s.equals("wss")) {
      return null;
    }
    int authorityStart = scheme + 3;
    int end = authorityStart;
    while (end < target.length() && "/?#".indexOf(target.charAt(end)) < 0) {
      end++;
    }
    if (end == authorityStart || target.substring(authorityStart, end).indexOf('@') >= 0) {
      return null; // no host, or userinfo (RFC 9110 section 4.2.4 forbids it in http URIs)
    }
    if (end == target.length()) {
      return "/";
    }
    if (target.charAt(end) == '#') {
      return null;
    }
    String rest = target.substring(end);
    return rest.charAt(0) == '?' ? "/" + rest : rest;
  }
}

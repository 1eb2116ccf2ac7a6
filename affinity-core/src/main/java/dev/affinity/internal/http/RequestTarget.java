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
   * The origin-form of {@code target}, or null if it is neither origin-form nor absolute-form, has
   * a character outside visible ASCII, or an ambiguous path (see {@code unambiguousPath}).
   */
  public static @Nullable String originForm(String target) {
    return originForm(target, true);
  }

  /**
   * Whether {@code target} parses as a request target, the meaning of its path aside: false for
   * what an HTTP parser refuses on the request line itself (a bad form, a character outside visible
   * ASCII, a {@code %} without two hex digits); true for a target refused only for its decoded path
   * (not UTF-8, a control character, an empty, {@code .} or {@code ..} segment), which Jetty judges
   * after the fields, so a too-large head is answered 431 first.
   */
  public static boolean parses(String target) {
    return originForm(target, false) != null;
  }

  private static @Nullable String originForm(String target, boolean judgeSegments) {
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
      return unambiguousPath(target, judgeSegments) ? target : null;
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
    String origin = rest.charAt(0) == '?' ? "/" + rest : rest;
    return unambiguousPath(origin, judgeSegments) ? origin : null;
  }

  /**
   * Whether the path (not the query) of an origin-form target means one thing to every server
   * behind: outside path parameters every {@code %} starts a percent-encoding, they decode to UTF-8
   * without control characters, and it has no empty segment ({@code //}, {@code /;p/}) and no
   * {@code .} or {@code ..} segment, encoded or not. The same URIs Jetty refuses by default, so
   * both adapters refuse them before routing.
   */
  private static boolean unambiguousPath(String originForm, boolean judgeSegments) {
    int end = originForm.indexOf('?');
    String path = end < 0 ? originForm : originForm.substring(0, end);
    // Path parameters (";p" at the end of a segment) are not judged, as Jetty does not judge them.
    StringBuilder bare = new StringBuilder(path.length());
    boolean inParams = false;
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '/') {
        inParams = false;
      } else if (c == ';') {
        inParams = true;
      }
      if (!inParams) {
        bare.append(c);
      }
    }
    for (int i = 0; i < bare.length(); i++) {
      if (bare.charAt(i) == '%'
          && (i + 2 >= bare.length()
              || Character.digit(bare.charAt(i + 1), 16) < 0
              || Character.digit(bare.charAt(i + 2), 16) < 0)) {
        return false; // not a percent-encoding (RFC 3986 section 2.1)
      }
    }
    String[] segments = bare.substring(1).split("/", -1);
    for (int i = 0; i < segments.length; i++) {
      String segment = segments[i].replace("%2e", ".").replace("%2E", ".");
      boolean last = i == segments.length - 1;
      if (judgeSegments
          && ((segment.isEmpty() && !last) || segment.equals(".") || segment.equals(".."))) {
        return false; // "//", "/;p/", "/./", "/%2e%2e/"
      }
    }
    if (!judgeSegments) {
      return true;
    }
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(bare.length());
    for (int i = 0; i < bare.length(); i++) {
      char c = bare.charAt(i);
      if (c == '%') {
        int b = Integer.parseInt(bare.substring(i + 1, i + 3), 16);
        if (b < 0x20 || b == 0x7f) {
          return false; // an encoded control character
        }
        bytes.write(b);
        i += 2;
      } else {
        bytes.write(c);
      }
    }
    try {
      java.nio.charset.StandardCharsets.UTF_8
          .newDecoder()
          .decode(java.nio.ByteBuffer.wrap(bytes.toByteArray()));
      return true;
    } catch (java.nio.charset.CharacterCodingException e) {
      return false;
    }
  }

  /**
   * The authority ({@code host[:port]}) of an absolute-form {@code target}, or null for an
   * origin-form one. Call it only on a target {@link #originForm} accepted.
   */
  public static @Nullable String authority(String target) {
    if (target.startsWith("/")) {
      return null;
    }
    int start = target.indexOf("://") + 3;
    int end = start;
    while (end < target.length() && "/?#".indexOf(target.charAt(end)) < 0) {
      end++;
    }
    return target.substring(start, end);
  }
}

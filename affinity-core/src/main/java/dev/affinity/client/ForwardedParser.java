package dev.affinity.client;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits forwarded headers into per-hop node strings, left to right. Tolerant: a malformed element
 * becomes an empty node, which the resolver treats as "stop here". Never throws.
 */
final class ForwardedParser {
  private ForwardedParser() {}

  /** The comma-separated entries of every {@code X-Forwarded-For} value, in order. */
  static List<String> xForwardedFor(List<String> values, int maxEntries) {
    List<String> out = new ArrayList<>();
    for (String v : values) {
      int start = 0;
      for (int i = 0; i <= v.length(); i++) {
        if (i == v.length() || v.charAt(i) == ',') {
          out.add(v.substring(start, i).trim());
          start = i + 1;
          if (out.size() > maxEntries) {
            return out;
          }
        }
      }
    }
    return out;
  }

  /**
   * The {@code for=} value of each RFC 7239 element of every {@code Forwarded} value, in order,
   * with quotes and backslash escapes removed; an element without a {@code for=} parameter, or with
   * a syntax error, gives an empty string.
   */
  static List<String> forwardedFor(List<String> values, int maxEntries) {
    List<String> out = new ArrayList<>();
    for (String v : values) {
      int i = 0;
      int n = v.length();
      String current = "";
      boolean broken = false;
      while (i <= n) {
        if (i == n) {
          out.add(broken ? "" : current);
          break;
        }
        char c = v.charAt(i);
        if (c == ',') {
          out.add(broken ? "" : current);
          if (out.size() > maxEntries) {
            return out;
          }
          current = "";
          broken = false;
          i++;
          continue;
        }
        if (c == ';' || c == ' ' || c == '\t') {
          i++;
          continue;
        }
        // pair = token "=" value
        int nameStart = i;
        while (i < n && isTchar(v.charAt(i))) {
          i++;
        }
        String name = v.substring(nameStart, i);
        if (name.isEmpty() || i >= n || v.charAt(i) != '=') {
          broken = true;
          i = skipToSeparator(v, i);
          continue;
        }
        i++; // '='
        String value;
        if (i < n && v.charAt(i) == '"') {
          StringBuilder sb = new StringBuilder();
          i++;
          boolean closed = false;
          while (i < n) {
            char q = v.charAt(i);
            if (q == '\\' && i + 1 < n) {
              sb.append(v.charAt(i + 1));
              i += 2;
            } else if (q == '"') {
              closed = true;
              i++;
              break;
            } else {
              sb.append(q);
              i++;
            }
          }
          if (!closed) {
            broken = true;
          }
          value = sb.toString();
        } else {
          int valueStart = i;
          while (i < n && v.charAt(i) != ';' && v.charAt(i) != ',') {
            i++;
          }
          value = v.substring(valueStart, i).trim();
        }
        if (name.equalsIgnoreCase("for")) {
          current = value;
        }
      }
    }
    return out;
  }

  private static int skipToSeparator(String v, int i) {
    while (i < v.length() && v.charAt(i) != ';' && v.charAt(i) != ',') {
      i++;
    }
    return i;
  }

  private static boolean isTchar(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }
}

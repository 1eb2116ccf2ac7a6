package dev.affinity.client;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Splits forwarded headers into per-hop node strings, <em>from the right</em>: the last entry of
 * the last header line first. Every header line of the same name is one list, in order.
 *
 * <p>Reading from the right is what makes the walk safe. The entries a trusted proxy appended are
 * the rightmost ones, so they are read first and are never pushed out of the bound by a long
 * client-written prefix, nor swallowed by a client-written quote that never closes: an element's
 * boundaries are found by scanning leftwards from its end, which never looks at anything written
 * before it. At most {@code maxEntries} nodes are returned, and the work is bounded by the length
 * of the entries returned (plus, for a malformed element, the line it sits on).
 *
 * <p>Tolerant: a malformed element becomes an empty node, which the resolver treats as "stop here",
 * and nothing left of it is returned. Never throws.
 */
final class ForwardedParser {
  private ForwardedParser() {}

  /**
   * The comma-separated entries of every {@code X-Forwarded-For} value, rightmost first, at most
   * {@code maxEntries} of them.
   */
  static List<String> xForwardedFor(List<String> values, int maxEntries) {
    List<String> out = new ArrayList<>(Math.min(maxEntries, 8));
    for (int line = values.size() - 1; line >= 0; line--) {
      String v = values.get(line);
      int end = v.length();
      for (int i = end - 1; i >= -1; i--) {
        if (i < 0 || v.charAt(i) == ',') {
          out.add(v.substring(i + 1, end).trim());
          if (out.size() >= maxEntries) {
            return out;
          }
          end = i;
        }
      }
    }
    return out;
  }

  /**
   * The {@code for=} value of each RFC 7239 element of every {@code Forwarded} value, rightmost
   * first, at most {@code maxEntries} of them, with quotes and backslash escapes removed. An
   * element without a {@code for=} parameter gives an empty string; an element with a syntax error
   * gives an empty string and ends the list.
   */
  static List<String> forwardedFor(List<String> values, int maxEntries) {
    List<String> out = new ArrayList<>(Math.min(maxEntries, 8));
    for (int line = values.size() - 1; line >= 0; line--) {
      String v = values.get(line);
      int end = v.length();
      while (true) {
        int start = elementStart(v, end);
        if (start < 0) {
          out.add("");
          return out;
        }
        @Nullable String forValue = forParameter(v, start, end);
        if (forValue == null) {
          out.add("");
          return out;
        }
        out.add(forValue);
        if (out.size() >= maxEntries) {
          return out;
        }
        if (start == 0) {
          break;
        }
        end = start - 1; // the comma before this element
      }
    }
    return out;
  }

  /**
   * Where the element ending at {@code end} (exclusive) starts: scans leftwards to the first comma
   * outside a quoted string, or to the start of the line. Returns -1 if a quoted string never
   * opens.
   */
  private static int elementStart(String v, int end) {
    int i = end - 1;
    while (i >= 0) {
      char c = v.charAt(i);
      if (c == ',') {
        return i + 1;
      }
      if (c == '"') {
        // The closing quote of a quoted string: find its opening quote, the first quote to the left
        // not escaped by an odd run of backslashes (RFC 9110 quoted-pair).
        i--;
        while (true) {
          if (i < 0) {
            return -1;
          }
          if (v.charAt(i) == '"' && backslashesBefore(v, i) % 2 == 0) {
            break;
          }
          i--;
        }
      }
      i--;
    }
    return 0;
  }

  private static int backslashesBefore(String v, int i) {
    int n = 0;
    while (i - 1 - n >= 0 && v.charAt(i - 1 - n) == '\\') {
      n++;
    }
    return n;
  }

  /**
   * The {@code for=} value of the element {@code v[start, end)}: "" if it has none, null if the
   * element is malformed.
   */
  private static @Nullable String forParameter(String v, int start, int end) {
    String result = "";
    int i = start;
    while (i < end) {
      char c = v.charAt(i);
      if (c == ';' || c == ' ' || c == '\t') {
        i++;
        continue;
      }
      int nameStart = i;
      while (i < end && isTchar(v.charAt(i))) {
        i++;
      }
      if (i == nameStart || i >= end || v.charAt(i) != '=') {
        return null;
      }
      String name = v.substring(nameStart, i);
      i++; // '='
      String value;
      if (i < end && v.charAt(i) == '"') {
        StringBuilder sb = new StringBuilder();
        i++;
        boolean closed = false;
        while (i < end) {
          char q = v.charAt(i);
          if (q == '\\' && i + 1 < end) {
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
          return null;
        }
        value = sb.toString();
        // Only whitespace may follow a quoted string before the next pair.
        while (i < end && (v.charAt(i) == ' ' || v.charAt(i) == '\t')) {
          i++;
        }
        if (i < end && v.charAt(i) != ';') {
          return null;
        }
      } else {
        int valueStart = i;
        while (i < end && v.charAt(i) != ';') {
          if (v.charAt(i) == '"') {
            return null;
          }
          i++;
        }
        value = v.substring(valueStart, i).trim();
      }
      if (name.equalsIgnoreCase("for")) {
        result = value;
      }
    }
    return result;
  }

  private static boolean isTchar(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }
}

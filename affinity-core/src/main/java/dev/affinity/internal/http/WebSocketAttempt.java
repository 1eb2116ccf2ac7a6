package dev.affinity.internal.http;

import java.util.List;
import java.util.function.Function;

/**
 * Which requests both adapters treat as WebSocket attempts: an {@code Upgrade} token {@code
 * websocket}, or any {@code Sec-WebSocket-Key} or {@code Sec-WebSocket-Version} field. A broken
 * attempt (say, a key without {@code Upgrade}) is then validated and answered 400 rather than
 * handled as a plain request. Not API.
 */
public final class WebSocketAttempt {
  private WebSocketAttempt() {}

  /**
   * Whether the request with these header values (by name, case-insensitive, in order) is a
   * WebSocket attempt.
   */
  public static boolean is(Function<String, List<String>> values) {
    return !values.apply("Sec-WebSocket-Key").isEmpty()
        || !values.apply("Sec-WebSocket-Version").isEmpty()
        || hasToken(values.apply("Upgrade"), "websocket");
  }

  /** Whether a comma-separated header has {@code token}, case-insensitively, in any value. */
  public static boolean hasToken(List<String> values, String token) {
    for (String v : values) {
      int start = 0;
      for (int i = 0; i <= v.length(); i++) {
        if (i == v.length() || v.charAt(i) == ',') {
          if (v.substring(start, i).trim().equalsIgnoreCase(token)) {
            return true;
          }
          start = i + 1;
        }
      }
    }
    return false;
  }
}

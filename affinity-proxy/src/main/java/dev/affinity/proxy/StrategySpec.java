package dev.affinity.proxy;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * One element of {@code --strategy}: {@code cookie}, {@code jwt}, {@code source-ip}, {@code
 * header:NAME}, {@code query:NAME} or {@code path:N}.
 *
 * @param kind what kind of strategy
 * @param argument the header or parameter name, or the path segment index; null for the others
 */
record StrategySpec(Kind kind, @Nullable String argument) {
  /** The strategy kinds and how they are written. */
  enum Kind {
    COOKIE("cookie", false),
    JWT("jwt", false),
    SOURCE_IP("source-ip", false),
    HEADER("header", true),
    QUERY("query", true),
    PATH("path", true);

    private final String token;
    private final boolean takesArgument;

    Kind(String token, boolean takesArgument) {
      this.token = token;
      this.takesArgument = takesArgument;
    }

    /** Whether it hashes a key with rendezvous, so that {@code --bounded-load} can wrap it. */
    boolean isHash() {
      return this != COOKIE && this != JWT;
    }
  }

  static final String EXPECTED = "cookie, jwt, source-ip, header:NAME, query:NAME or path:N";

  /**
   * Parses one element.
   *
   * @throws IllegalArgumentException naming the element and what was expected
   */
  static StrategySpec parse(String text) {
    String t = text.trim();
    int colon = t.indexOf(':');
    String name = (colon < 0 ? t : t.substring(0, colon)).toLowerCase(Locale.ROOT);
    String arg = colon < 0 ? null : t.substring(colon + 1).trim();
    for (Kind k : Kind.values()) {
      if (!k.token.equals(name)) {
        continue;
      }
      if (k.takesArgument && (arg == null || arg.isEmpty())) {
        throw new IllegalArgumentException(
            "'" + text + "' (expected: " + k.token + ":" + (k == Kind.PATH ? "N" : "NAME") + ")");
      }
      if (!k.takesArgument && arg != null) {
        throw new IllegalArgumentException(
            "'" + text + "' (expected: " + k.token + " without an argument)");
      }
      if (k == Kind.PATH && arg != null && !arg.matches("\\d{1,3}")) {
        throw new IllegalArgumentException(
            "'" + text + "' (expected: path:N with N a segment index from 0)");
      }
      return new StrategySpec(k, arg);
    }
    throw new IllegalArgumentException("'" + text + "' (expected: " + EXPECTED + ")");
  }

  @Override
  public String toString() {
    return argument == null ? kind.token : kind.token + ":" + argument;
  }
}

package dev.affinity.internal;

import dev.affinity.AffinityConfigurationException;

/**
 * Argument checks that produce the house message format {@code "field: value (expected: ...)"}.
 *
 * <p>Not API: may change in any release.
 */
public final class Checks {
  private Checks() {}

  /**
   * Fails with {@link AffinityConfigurationException} unless {@code condition} holds.
   *
   * @throws AffinityConfigurationException if the condition is false
   */
  public static void check(boolean condition, String field, Object value, String expected) {
    if (!condition) {
      throw new AffinityConfigurationException(message(field, value, expected));
    }
  }

  /** Formats {@code "field: value (expected: expected)"}. */
  public static String message(String field, Object value, String expected) {
    return field + ": " + value + " (expected: " + expected + ")";
  }
}

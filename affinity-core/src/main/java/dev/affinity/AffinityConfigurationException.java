package dev.affinity;

/**
 * A configuration value was rejected by a builder or factory. The message names the field, the
 * value and what was expected, for example {@code "weight: 0 (expected: > 0)"}.
 */
public final class AffinityConfigurationException extends AffinityException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message the field, the rejected value and what was expected
   */
  public AffinityConfigurationException(String message) {
    super(message);
  }

  /**
   * Creates the exception with the failure that made the value unusable.
   *
   * @param message the field, the rejected value and what was expected
   * @param cause the underlying failure, for example a parse error
   */
  public AffinityConfigurationException(String message, Throwable cause) {
    super(message, cause);
  }
}

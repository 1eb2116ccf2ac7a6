package dev.affinity;

/**
 * Root of every exception this library throws on purpose.
 *
 * <p>{@link Router#select} never throws for "no backend" or bad client input: those are outcomes of
 * a {@link RoutingDecision}. Exceptions are for programming and configuration mistakes, which are
 * reported as {@link AffinityConfigurationException} or {@link UnknownBackendException}.
 */
public class AffinityException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with a message.
   *
   * @param message what went wrong, naming the field or value involved
   */
  public AffinityException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a message and a cause.
   *
   * @param message what went wrong
   * @param cause the underlying failure
   */
  public AffinityException(String message, Throwable cause) {
    super(message, cause);
  }
}

package dev.affinity;

/** A membership operation named a backend id that is not in the group. */
public final class UnknownBackendException extends AffinityException {
  private static final long serialVersionUID = 1L;

  private final String backendId;

  /**
   * Creates the exception.
   *
   * @param backendId the id that was not found
   */
  public UnknownBackendException(String backendId) {
    super("backend: " + backendId + " (expected: the id of a member of the group)");
    this.backendId = backendId;
  }

  /** Returns the id that was not found. */
  public String backendId() {
    return backendId;
  }
}

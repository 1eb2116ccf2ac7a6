package dev.affinity.client;

/**
 * Which forwarded header the trusted proxies in front of us write. Choose exactly the one they
 * write: a header they merely pass through is written by the client and can be spoofed.
 */
public enum ForwardedHeader {
  /** {@code X-Forwarded-For}: written by AWS ALB, NGINX, HAProxy, Envoy and most proxies. */
  X_FORWARDED_FOR("X-Forwarded-For"),
  /** RFC 7239 {@code Forwarded}: the {@code for=} parameter of each element. */
  FORWARDED("Forwarded"),
  /** Ignore forwarded headers; only the peer (and a trusted PROXY protocol header) count. */
  NONE("");

  private final String headerName;

  ForwardedHeader(String headerName) {
    this.headerName = headerName;
  }

  /** The header name, or an empty string for {@link #NONE}. */
  public String headerName() {
    return headerName;
  }
}

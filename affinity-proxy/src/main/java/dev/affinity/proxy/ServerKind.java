package dev.affinity.proxy;

/** Which adapter runs the proxy. */
public enum ServerKind {
  /** {@code affinity-netty} on Netty 4.2: the default. */
  NETTY("netty"),
  /** {@code affinity-jetty} on Jetty 12.1. */
  JETTY("jetty");

  private final String flagValue;

  ServerKind(String flagValue) {
    this.flagValue = flagValue;
  }

  /** The value of {@code --server} that selects it. */
  public String flagValue() {
    return flagValue;
  }
}

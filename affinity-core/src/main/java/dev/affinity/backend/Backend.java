package dev.affinity.backend;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import com.google.common.collect.ImmutableMap;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * An immutable description of one backend: a stable {@linkplain #id() id}, where to connect, a
 * weight, an optional connection cap and free-form metadata.
 *
 * <p>The id is the affinity identity. Hash strategies are keyed by it and cookies name it (through
 * an opaque tag), so an id must stay the same when a backend restarts, moves address, or changes
 * position in a list. Use the name a backend is known by ({@code "ws-1"}, a pod name), never an
 * index.
 *
 * <pre>{@code
 * Backend ws1 = Backend.of("ws-1", "10.0.0.1", 8080).withWeight(2).withMaxConnections(10_000);
 * }</pre>
 *
 * <p>Equality covers every field, so an {@linkplain BackendGroup#update update} that changes only
 * the weight is a real change.
 */
public final class Backend {
  /** The weight a backend has unless {@link #withWeight} says otherwise. */
  public static final int DEFAULT_WEIGHT = 1;

  /** The largest weight accepted; weights are relative, so this is only a sanity bound. */
  public static final int MAX_WEIGHT = 1_000_000;

  private final String id;
  private final String host;
  private final int port;
  private final int weight;
  private final int maxConnections; // 0 = no cap
  private final ImmutableMap<String, String> metadata;

  private Backend(
      String id,
      String host,
      int port,
      int weight,
      int maxConnections,
      ImmutableMap<String, String> metadata) {
    this.id = id;
    this.host = host;
    this.port = port;
    this.weight = weight;
    this.maxConnections = maxConnections;
    this.metadata = metadata;
  }

  /**
   * Returns a backend with weight {@value #DEFAULT_WEIGHT}, no connection cap and no metadata.
   *
   * @param id the stable affinity identity: 1 to 128 visible ASCII characters
   * @param host a host name or IP literal to connect to
   * @param port a TCP port, 1 to 65535
   * @throws dev.affinity.AffinityConfigurationException if a value is out of range
   */
  public static Backend of(String id, String host, int port) {
    requireNonNull(id, "id");
    requireNonNull(host, "host");
    check(isValidId(id), "id", "'" + id + "'", "1 to 128 visible ASCII characters");
    check(!host.isBlank(), "host", "'" + host + "'", "a host name or IP literal");
    check(port > 0 && port <= 65_535, "port", port, "1..65535");
    return new Backend(id, host, port, DEFAULT_WEIGHT, 0, ImmutableMap.of());
  }

  private static boolean isValidId(String id) {
    if (id.isEmpty() || id.length() > 128) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (c <= 0x20 || c >= 0x7f) {
        return false;
      }
    }
    return true;
  }

  /**
   * Returns a copy with another weight. Weights are relative: a backend of weight 2 gets twice the
   * share of a backend of weight 1.
   *
   * @throws dev.affinity.AffinityConfigurationException if the weight is not in 1..{@value
   *     #MAX_WEIGHT}
   */
  public Backend withWeight(int weight) {
    check(weight > 0 && weight <= MAX_WEIGHT, "weight", weight, "1.." + MAX_WEIGHT);
    return new Backend(id, host, port, weight, maxConnections, metadata);
  }

  /**
   * Returns a copy that accepts at most {@code maxConnections} live connections; further
   * connections go to the next candidate. Zero removes the cap.
   *
   * @throws dev.affinity.AffinityConfigurationException if the value is negative
   */
  public Backend withMaxConnections(int maxConnections) {
    check(maxConnections >= 0, "maxConnections", maxConnections, ">= 0 (0 = no cap)");
    return new Backend(id, host, port, weight, maxConnections, metadata);
  }

  /** Returns a copy with one more metadata entry, replacing an entry with the same key. */
  public Backend withMetadata(String key, String value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    return new Backend(
        id,
        host,
        port,
        weight,
        maxConnections,
        ImmutableMap.<String, String>builder().putAll(metadata).put(key, value).buildKeepingLast());
  }

  /** Returns a copy with another address and the same id, weight, cap and metadata. */
  public Backend withAddress(String host, int port) {
    Backend moved = of(id, host, port);
    return new Backend(id, moved.host, moved.port, weight, maxConnections, metadata);
  }

  /** The stable affinity identity. */
  public String id() {
    return id;
  }

  /** The host name or IP literal to connect to. */
  public String host() {
    return host;
  }

  /** The TCP port to connect to. */
  public int port() {
    return port;
  }

  /**
   * An unresolved socket address for {@link #host()} and {@link #port()}; adapters resolve it when
   * they connect.
   */
  public InetSocketAddress socketAddress() {
    return InetSocketAddress.createUnresolved(host, port);
  }

  /** The relative weight, at least 1. */
  public int weight() {
    return weight;
  }

  /** The connection cap, if one was set. */
  public OptionalInt maxConnections() {
    return maxConnections == 0 ? OptionalInt.empty() : OptionalInt.of(maxConnections);
  }

  /** The connection cap, or {@code 0} when there is none. Used on the hot path. */
  int maxConnectionsOrZero() {
    return maxConnections;
  }

  /** Free-form metadata (zone, version, ...); never null. */
  public Map<String, String> metadata() {
    return metadata;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof Backend)) {
      return false;
    }
    Backend that = (Backend) o;
    return port == that.port
        && weight == that.weight
        && maxConnections == that.maxConnections
        && id.equals(that.id)
        && host.equals(that.host)
        && metadata.equals(that.metadata);
  }

  @Override
  public int hashCode() {
    return Objects.hash(id, host, port, weight, maxConnections, metadata);
  }

  /**
   * Reads like the call that made it: {@code Backend.of("ws-1", "10.0.0.1", 8080).withWeight(2)}.
   */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Backend.of(\"").append(id).append("\", \"");
    sb.append(host).append("\", ").append(port).append(')');
    if (weight != DEFAULT_WEIGHT) {
      sb.append(".withWeight(").append(weight).append(')');
    }
    if (maxConnections != 0) {
      sb.append(".withMaxConnections(").append(maxConnections).append(')');
    }
    metadata.forEach(
        (k, v) -> sb.append(".withMetadata(\"").append(k).append("\", \"").append(v).append("\")"));
    return sb.toString();
  }
}

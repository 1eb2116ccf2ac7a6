package dev.affinity.strategy;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.RoutingRequest;
import dev.affinity.client.ClientAddressResolver;
import dev.affinity.hash.RendezvousHash;
import java.util.Locale;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * What a hash strategy routes on: a value read from the request and hashed with the pinned {@link
 * RendezvousHash} function.
 *
 * <pre>{@code
 * AffinityStrategy byUser = AffinityStrategy.rendezvous(RoutingKey.header("X-User-Id"));
 * AffinityStrategy byRoom = AffinityStrategy.rendezvous(RoutingKey.pathSegment(1)); // /rooms/{id}
 * }</pre>
 *
 * <p>Implementations must be thread-safe and must not throw; an unreadable value is {@link
 * #ABSENT}.
 */
public interface RoutingKey {
  /** Returned by {@link #hash} when the request has no value for this key. */
  long ABSENT = -1L;

  /**
   * The pinned key hash of this request's value (an unsigned 32-bit number), or {@link #ABSENT}.
   */
  long hash(RoutingRequest request);

  /**
   * Describes this request's value for an explanation, for example {@code header X-User-Id=alice}.
   * Must not reveal secrets: cookie values are shown only as a hash. Null when absent.
   */
  @Nullable String describe(RoutingRequest request);

  /** What the key reads, for example {@code header X-User-Id}. */
  String name();

  /** The resolved client IP address (see {@link ClientAddressResolver}). */
  static RoutingKey clientIp(ClientAddressResolver resolver) {
    return new Keys.ClientIpKey(requireNonNull(resolver, "resolver"));
  }

  /** The first value of a request header; blank values are absent. */
  static RoutingKey header(String name) {
    requireNonNull(name, "name");
    check(!name.isBlank(), "name", "'" + name + "'", "a header name");
    // Header names are case-insensitive; asking in lower case lets views skip a per-call copy.
    String lookup = name.toLowerCase(Locale.ROOT);
    return new Keys.TextKey("header " + name, r -> r.header(lookup), true);
  }

  /** The first value of a query parameter; empty values are absent. */
  static RoutingKey queryParameter(String name) {
    requireNonNull(name, "name");
    check(!name.isEmpty(), "name", "''", "a parameter name");
    return new Keys.TextKey("query parameter " + name, r -> r.queryParameter(name), true);
  }

  /**
   * The value of a cookie; empty values are absent. Explanations show only its hash, since cookies
   * often hold session secrets.
   */
  static RoutingKey cookie(String name) {
    requireNonNull(name, "name");
    check(!name.isEmpty(), "name", "''", "a cookie name");
    return new Keys.TextKey("cookie " + name, r -> r.cookie(name), false);
  }

  /**
   * A segment of the request path, counting non-empty segments from 0: for {@code /rooms/42/ws},
   * segment 1 is {@code 42}.
   *
   * @throws dev.affinity.AffinityConfigurationException if {@code index} is negative
   */
  static RoutingKey pathSegment(int index) {
    check(index >= 0, "index", index, ">= 0");
    return new Keys.TextKey("path segment " + index, r -> Keys.segment(r.path(), index), true);
  }

  /**
   * A key computed by {@code extractor}, hashed as UTF-8 text; null or empty results are absent. A
   * throwing extractor is treated as absent.
   *
   * @param name what the key reads, for explanations
   * @param showValue whether explanations may show the value (false for anything secret)
   */
  static RoutingKey of(
      String name, Function<RoutingRequest, @Nullable String> extractor, boolean showValue) {
    requireNonNull(name, "name");
    requireNonNull(extractor, "extractor");
    return new Keys.TextKey(name, extractor, showValue);
  }
}

package dev.affinity.strategy;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.RoutingRequest;
import dev.affinity.SetCookie;
import dev.affinity.SetCookie.SameSite;
import java.time.Duration;
import java.time.InstantSource;
import org.jspecify.annotations.Nullable;

/**
 * The configuration of {@linkplain AffinityStrategy#cookie(CookieAffinity) signed cookie affinity}:
 * keys, cookie attributes, how long a cookie is honoured, and where else a non-browser client may
 * present it.
 *
 * <pre>{@code
 * CookieAffinity cookies = CookieAffinity.builder(CookieKeys.of(CookieKey.fromBase64(1, secret)))
 *     .name("AFFINITY")
 *     .maxAge(Duration.ofHours(12))   // enforced by the router, whatever the browser keeps
 *     .header("X-Affinity")           // non-browser clients may send the value here
 *     .build();
 * Router router = Router.builder(group)
 *     .strategy(AffinityStrategy.cookie(cookies))
 *     .fallback(AffinityStrategy.leastConnections())
 *     .build();
 * }</pre>
 *
 * <p>Defaults: name {@value #DEFAULT_NAME}, {@code Path=/}, {@code HttpOnly}, {@code SameSite=Lax},
 * {@code Secure} when the request came over TLS, no {@code Domain}, a session cookie (no {@code
 * Max-Age} attribute), honoured for {@link #DEFAULT_MAX_AGE} after it was issued, no header or
 * query parameter carrier, not strict, {@value #DEFAULT_CACHE_SIZE} verified cookie values cached.
 * Time (issue dates, the max age, drain deadlines) comes from the group's clock ({@link
 * dev.affinity.backend.BackendGroup#create(InstantSource)}), like everything a router decides.
 * Immutable and thread-safe.
 */
public final class CookieAffinity {
  /** The cookie name unless told otherwise. */
  public static final String DEFAULT_NAME = "AFFINITY";

  /** How long a cookie is honoured after it was issued, unless told otherwise: one day. */
  public static final Duration DEFAULT_MAX_AGE = Duration.ofDays(1);

  /** How many verified cookie values are remembered unless told otherwise. */
  public static final int DEFAULT_CACHE_SIZE = 10_000;

  /** The longest {@link Builder#maxAge} accepted: one year. */
  public static final Duration MAX_MAX_AGE = Duration.ofDays(366);

  private final CookieKeys keys;
  private final String name;
  private final String path;
  private final @Nullable String domain;
  private final SameSite sameSite;
  private final boolean httpOnly;
  private final @Nullable Boolean secure;
  private final Duration maxAge;
  private final boolean maxAgeAttribute;
  private final @Nullable String header;
  private final @Nullable String queryParameter;
  private final boolean strict;
  private final @Nullable InstantSource clock;
  private final int cacheSize;

  private CookieAffinity(Builder b) {
    this.keys = b.keys;
    this.name = b.name;
    this.path = b.path;
    this.domain = b.domain;
    this.sameSite = b.sameSite;
    this.httpOnly = b.httpOnly;
    this.secure = b.secure;
    this.maxAge = b.maxAge;
    this.maxAgeAttribute = b.maxAgeAttribute;
    this.header = b.header;
    this.queryParameter = b.queryParameter;
    this.strict = b.strict;
    this.clock = b.clock;
    this.cacheSize = b.cacheSize;
  }

  /** Returns a builder signing and verifying with {@code keys}. */
  public static Builder builder(CookieKeys keys) {
    return new Builder(requireNonNull(keys, "keys"));
  }

  /** The keys. */
  public CookieKeys keys() {
    return keys;
  }

  /** The cookie name. */
  public String name() {
    return name;
  }

  /** How long after issue a cookie is honoured. */
  public Duration maxAge() {
    return maxAge;
  }

  /** The header a non-browser client may send the cookie value in, or null. */
  public @Nullable String header() {
    return header;
  }

  /** The query parameter a non-browser client may send the cookie value in, or null. */
  public @Nullable String queryParameter() {
    return queryParameter;
  }

  /** Whether a valid cookie naming a DOWN backend ends in "no backend" instead of re-placing. */
  public boolean strict() {
    return strict;
  }

  /** The clock set through the deprecated {@link Builder#clock}, or null (the group's). */
  @Nullable InstantSource clock() {
    return clock;
  }

  /** How many verified cookie values are remembered; 0 when caching is off. */
  public int cacheSize() {
    return cacheSize;
  }

  /** The {@code Set-Cookie} for {@code value}, with the configured attributes. */
  SetCookie setCookie(String value, RoutingRequest request) {
    SetCookie c =
        SetCookie.of(name, value)
            .withPath(path)
            .withDomain(domain)
            .withSameSite(sameSite)
            .withHttpOnly(httpOnly)
            .withSecure(secure == null ? request.isSecure() : secure);
    return maxAgeAttribute ? c.withMaxAge(maxAge) : c;
  }

  /** Shows the settings, never a secret. */
  @Override
  public String toString() {
    return "CookieAffinity{name="
        + name
        + ", path="
        + path
        + (domain == null ? "" : ", domain=" + domain)
        + ", sameSite="
        + sameSite
        + ", httpOnly="
        + httpOnly
        + ", secure="
        + (secure == null ? "when the request is" : secure)
        + ", maxAge="
        + maxAge
        + (maxAgeAttribute ? " (sent as Max-Age)" : "")
        + (header == null ? "" : ", header=" + header)
        + (queryParameter == null ? "" : ", queryParameter=" + queryParameter)
        + (strict ? ", strict" : "")
        + ", cacheSize="
        + cacheSize
        + ", "
        + keys
        + "}";
  }

  /**
   * Builds a {@link CookieAffinity}; every setter validates its argument. Obtain one from {@link
   * CookieAffinity#builder(CookieKeys)}.
   */
  public static final class Builder {
    private final CookieKeys keys;
    private String name = DEFAULT_NAME;
    private String path = "/";
    private @Nullable String domain;
    private SameSite sameSite = SameSite.LAX;
    private boolean httpOnly = true;
    private @Nullable Boolean secure;
    private Duration maxAge = DEFAULT_MAX_AGE;
    private boolean maxAgeAttribute;
    private @Nullable String header;
    private @Nullable String queryParameter;
    private boolean strict;
    private @Nullable InstantSource clock;
    private int cacheSize = DEFAULT_CACHE_SIZE;

    private Builder(CookieKeys keys) {
      this.keys = keys;
    }

    /**
     * The cookie name; default {@value CookieAffinity#DEFAULT_NAME}.
     *
     * @throws AffinityConfigurationException unless an RFC 6265 token
     */
    public Builder name(String name) {
      requireNonNull(name, "name");
      SetCookie.of(name, ""); // validates the name
      this.name = name;
      return this;
    }

    /**
     * The {@code Path} attribute; default {@code /}.
     *
     * @throws AffinityConfigurationException unless an absolute path
     */
    public Builder path(String path) {
      SetCookie.of(DEFAULT_NAME, "").withPath(requireNonNull(path, "path"));
      this.path = path;
      return this;
    }

    /**
     * The {@code Domain} attribute, or none (the default: only the host that set it) when null.
     *
     * @throws AffinityConfigurationException if empty or holding characters not allowed there
     */
    public Builder domain(@Nullable String domain) {
      SetCookie.of(DEFAULT_NAME, "").withDomain(domain);
      this.domain = domain;
      return this;
    }

    /** The {@code SameSite} attribute; default {@link SameSite#LAX}. */
    public Builder sameSite(SameSite sameSite) {
      this.sameSite = requireNonNull(sameSite, "sameSite");
      return this;
    }

    /**
     * Whether the cookie is {@code HttpOnly} (hidden from page scripts); default true. Turn it off
     * only if page scripts must read the value to send it on a non-browser channel.
     */
    public Builder httpOnly(boolean httpOnly) {
      this.httpOnly = httpOnly;
      return this;
    }

    /**
     * Forces {@code Secure} on or off. By default the cookie is {@code Secure} exactly when the
     * request came over TLS ({@link RoutingRequest#isSecure()}); force it on when TLS ends in front
     * of this proxy.
     */
    public Builder secure(boolean secure) {
      this.secure = secure;
      return this;
    }

    /**
     * How long after it was issued a cookie is honoured, by the router's clock, whatever the
     * browser keeps; default {@link CookieAffinity#DEFAULT_MAX_AGE}. Returning clients whose cookie
     * is older than half of this get a fresh one, so active clients keep their backend.
     *
     * @throws AffinityConfigurationException unless from 1 second to {@link
     *     CookieAffinity#MAX_MAX_AGE}
     */
    public Builder maxAge(Duration maxAge) {
      requireNonNull(maxAge, "maxAge");
      check(
          maxAge.compareTo(Duration.ofSeconds(1)) >= 0 && maxAge.compareTo(MAX_MAX_AGE) <= 0,
          "maxAge",
          maxAge,
          "PT1S.." + MAX_MAX_AGE);
      this.maxAge = maxAge;
      return this;
    }

    /**
     * Whether the {@code Set-Cookie} carries {@code Max-Age} equal to {@link #maxAge}, making it a
     * persistent cookie; default false (a session cookie).
     */
    public Builder maxAgeAttribute(boolean send) {
      this.maxAgeAttribute = send;
      return this;
    }

    /**
     * A request header in which clients that keep no cookies may present the same value, or none
     * when null. The cookie, when present, is read first.
     *
     * @throws AffinityConfigurationException if blank
     */
    public Builder header(@Nullable String header) {
      check(header == null || !header.isBlank(), "header", "'" + header + "'", "a header name");
      this.header = header;
      return this;
    }

    /**
     * A query parameter in which clients that keep no cookies may present the same value, or none
     * when null. Read after the cookie and the header. Query strings end up in access logs: prefer
     * the header where the client allows it.
     *
     * @throws AffinityConfigurationException if empty
     */
    public Builder queryParameter(@Nullable String queryParameter) {
      check(
          queryParameter == null || !queryParameter.isEmpty(),
          "queryParameter",
          "''",
          "a parameter name");
      this.queryParameter = queryParameter;
      return this;
    }

    /**
     * Strict mode (off by default, as in Envoy): a valid cookie whose backend is DOWN ends the
     * decision with "no backend" (503) instead of placing the client elsewhere. For backends that
     * hold state a client must not lose silently. Removed backends, and drained ones past their
     * deadline, are still re-placed.
     */
    public Builder strict(boolean strict) {
      this.strict = strict;
      return this;
    }

    /**
     * The clock that dates new cookies and enforces the max age and drain deadlines.
     *
     * @deprecated cookies read the group's clock, like everything a router decides: pass the clock
     *     to {@link dev.affinity.backend.BackendGroup#create(InstantSource)} instead. A clock set
     *     here must be that same clock: a router over a group with another clock refuses to build
     *     ({@link AffinityConfigurationException} naming both).
     */
    @Deprecated
    public Builder clock(InstantSource clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /**
     * How many verified cookie values to remember, keyed by their exact text, so that a client
     * presenting the same cookie again is not verified again (an HMAC-SHA256) until the cookie's
     * max age ends; 0 turns caching off. Default {@value CookieAffinity#DEFAULT_CACHE_SIZE}. Only
     * values whose signature verified are cached, each with what it names; a value that differs in
     * any character is a miss. Memory: at most this many 68-character strings and small entries,
     * plus an array of this many references allocated up front.
     *
     * @throws AffinityConfigurationException unless 0..10,000,000
     */
    public Builder cacheSize(int size) {
      check(size >= 0 && size <= 10_000_000, "cacheSize", size, "0..10000000");
      this.cacheSize = size;
      return this;
    }

    /**
     * Returns the configuration.
     *
     * @throws AffinityConfigurationException if {@code SameSite=None} is asked for without {@link
     *     #secure secure(true)} (browsers drop such cookies)
     */
    public CookieAffinity build() {
      check(
          sameSite != SameSite.NONE || Boolean.TRUE.equals(secure),
          "sameSite",
          sameSite,
          "secure(true) with SameSite=None");
      return new CookieAffinity(this);
    }
  }
}

package dev.affinity;

import static dev.affinity.internal.Checks.check;
import static dev.affinity.internal.http.CookieSyntax.isCookieValue;
import static dev.affinity.internal.http.CookieSyntax.isToken;
import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A cookie a {@link RoutingDecision} asks the adapter to add to the 101 response, next to (never
 * instead of) any {@code Set-Cookie} the backend sent.
 *
 * <p>Adapters encode it with their framework's strict encoder (Netty {@code
 * ServerCookieEncoder.STRICT}, Jetty {@code HttpCookie}); {@link #toHeaderValue()} is there for
 * custom proxies. {@link #toString()} never shows the value.
 */
public final class SetCookie {
  /** The {@code SameSite} attribute. */
  public enum SameSite {
    /** {@code SameSite=Strict}. */
    STRICT("Strict"),
    /** {@code SameSite=Lax}: the default, sent on top-level navigations and same-site requests. */
    LAX("Lax"),
    /** {@code SameSite=None}: cross-site; browsers require {@code Secure} with it. */
    NONE("None");

    private final String attribute;

    SameSite(String attribute) {
      this.attribute = attribute;
    }

    /**
     * The attribute value as written in the header: {@code Strict}, {@code Lax} or {@code None}.
     */
    public String attributeValue() {
      return attribute;
    }
  }

  private final String name;
  private final String value;
  private final String path;
  private final @Nullable String domain;
  private final @Nullable Duration maxAge;
  private final boolean secure;
  private final boolean httpOnly;
  private final SameSite sameSite;

  private SetCookie(
      String name,
      String value,
      String path,
      @Nullable String domain,
      @Nullable Duration maxAge,
      boolean secure,
      boolean httpOnly,
      SameSite sameSite) {
    this.name = name;
    this.value = value;
    this.path = path;
    this.domain = domain;
    this.maxAge = maxAge;
    this.secure = secure;
    this.httpOnly = httpOnly;
    this.sameSite = sameSite;
  }

  /**
   * Returns a session cookie with the safe defaults: {@code Path=/}, {@code HttpOnly}, {@code
   * SameSite=Lax}, not {@code Secure}, no {@code Domain}, no {@code Max-Age}.
   *
   * @throws AffinityConfigurationException if the name or value contains characters RFC 6265 does
   *     not allow
   */
  public static SetCookie of(String name, String value) {
    requireNonNull(name, "name");
    requireNonNull(value, "value");
    check(isToken(name), "name", "'" + name + "'", "an RFC 6265 cookie-name token");
    check(isCookieValue(value), "value", "<redacted>", "RFC 6265 cookie-octets");
    return new SetCookie(name, value, "/", null, null, false, true, SameSite.LAX);
  }

  /** Returns a copy with another {@code Path}. */
  public SetCookie withPath(String path) {
    requireNonNull(path, "path");
    check(path.startsWith("/") && isAttributeValue(path), "path", path, "an absolute path");
    return new SetCookie(name, value, path, domain, maxAge, secure, httpOnly, sameSite);
  }

  /** Returns a copy with a {@code Domain} attribute, or none when null. */
  public SetCookie withDomain(@Nullable String domain) {
    if (domain != null) {
      check(!domain.isEmpty() && isAttributeValue(domain), "domain", domain, "a host name");
    }
    return new SetCookie(name, value, path, domain, maxAge, secure, httpOnly, sameSite);
  }

  /** Returns a copy with a {@code Max-Age} attribute, or a session cookie when null. */
  public SetCookie withMaxAge(@Nullable Duration maxAge) {
    if (maxAge != null) {
      check(!maxAge.isNegative(), "maxAge", maxAge, ">= 0");
    }
    return new SetCookie(name, value, path, domain, maxAge, secure, httpOnly, sameSite);
  }

  /** Returns a copy with or without {@code Secure}. */
  public SetCookie withSecure(boolean secure) {
    return new SetCookie(name, value, path, domain, maxAge, secure, httpOnly, sameSite);
  }

  /** Returns a copy with or without {@code HttpOnly}. */
  public SetCookie withHttpOnly(boolean httpOnly) {
    return new SetCookie(name, value, path, domain, maxAge, secure, httpOnly, sameSite);
  }

  /** Returns a copy with another {@code SameSite}. */
  public SetCookie withSameSite(SameSite sameSite) {
    requireNonNull(sameSite, "sameSite");
    return new SetCookie(name, value, path, domain, maxAge, secure, httpOnly, sameSite);
  }

  /** The cookie name. */
  public String name() {
    return name;
  }

  /** The cookie value. Opaque; do not log it. */
  public String value() {
    return value;
  }

  /** The {@code Path} attribute. */
  public String path() {
    return path;
  }

  /** The {@code Domain} attribute, or null. */
  public @Nullable String domain() {
    return domain;
  }

  /** The {@code Max-Age} attribute, or null for a session cookie. */
  public @Nullable Duration maxAge() {
    return maxAge;
  }

  /** Whether {@code Secure} is set. */
  public boolean secure() {
    return secure;
  }

  /** Whether {@code HttpOnly} is set. */
  public boolean httpOnly() {
    return httpOnly;
  }

  /** The {@code SameSite} attribute. */
  public SameSite sameSite() {
    return sameSite;
  }

  /** The value of a {@code Set-Cookie} header for this cookie. */
  public String toHeaderValue() {
    StringBuilder sb = new StringBuilder(name).append('=').append(value);
    sb.append("; Path=").append(path);
    if (domain != null) {
      sb.append("; Domain=").append(domain);
    }
    if (maxAge != null) {
      sb.append("; Max-Age=").append(maxAge.toSeconds());
    }
    if (secure) {
      sb.append("; Secure");
    }
    if (httpOnly) {
      sb.append("; HttpOnly");
    }
    sb.append("; SameSite=").append(sameSite.attributeValue());
    return sb.toString();
  }

  private static boolean isAttributeValue(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c >= 0x7f || c == ';') {
        return false;
      }
    }
    return true;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof SetCookie)) {
      return false;
    }
    SetCookie that = (SetCookie) o;
    return secure == that.secure
        && httpOnly == that.httpOnly
        && name.equals(that.name)
        && value.equals(that.value)
        && path.equals(that.path)
        && Objects.equals(domain, that.domain)
        && Objects.equals(maxAge, that.maxAge)
        && sameSite == that.sameSite;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, value, path, domain, maxAge, secure, httpOnly, sameSite);
  }

  /** Shows the attributes but never the value. */
  @Override
  public String toString() {
    return "SetCookie{" + toHeaderValue().replace(name + "=" + value, name + "=<redacted>") + "}";
  }
}

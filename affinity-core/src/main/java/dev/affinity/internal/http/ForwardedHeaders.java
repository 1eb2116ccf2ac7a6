package dev.affinity.internal.http;

import com.google.common.collect.ImmutableList;
import com.google.common.net.InetAddresses;
import dev.affinity.client.Cidr;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The forwarded headers both adapters write to the backend, written once. Not API.
 *
 * <p>The adapter removes every header this class {@linkplain #owns owns} from the request it
 * forwards and appends {@link #write}'s result instead:
 *
 * <ul>
 *   <li>{@code X-Forwarded-For}: the client's address for this hop, appended to what a trusted peer
 *       sent;
 *   <li>{@code X-Forwarded-Proto}: what a trusted peer sent, else {@code http} or {@code https} as
 *       the client connected;
 *   <li>{@code X-Forwarded-Host}, {@code X-Forwarded-Port}: what a trusted peer sent, else the
 *       request's {@code Host} and the port the client connected to;
 *   <li>{@code Forwarded} (RFC 7239): one element {@code for=...;host=...;proto=...} for this hop,
 *       appended to what a trusted peer sent.
 * </ul>
 *
 * <p>From a peer that is not a trusted proxy every one of them is replaced, never kept: a client
 * cannot make the backend believe it came over TLS, from another address or for another host. The
 * client's address for this hop is the PROXY protocol source when the peer is trusted and sent one
 * (as HAProxy writes it with {@code accept-proxy}), else the TCP peer. Addresses are written in
 * their canonical text form (RFC 5952: IPv6 compressed, lower case), bracketed and quoted in {@code
 * Forwarded}.
 */
public final class ForwardedHeaders {
  /** {@code X-Forwarded-For}. */
  public static final String X_FORWARDED_FOR = "X-Forwarded-For";

  /** {@code X-Forwarded-Proto}. */
  public static final String X_FORWARDED_PROTO = "X-Forwarded-Proto";

  /** {@code X-Forwarded-Host}. */
  public static final String X_FORWARDED_HOST = "X-Forwarded-Host";

  /** {@code X-Forwarded-Port}. */
  public static final String X_FORWARDED_PORT = "X-Forwarded-Port";

  /** {@code Forwarded}. */
  public static final String FORWARDED = "Forwarded";

  private final ImmutableList<Cidr> trustedProxies;

  private ForwardedHeaders(List<Cidr> trustedProxies) {
    this.trustedProxies = ImmutableList.copyOf(trustedProxies);
  }

  /** Trusts the peers in {@code trustedProxies}: their forwarded headers are kept and appended. */
  public static ForwardedHeaders trusting(List<Cidr> trustedProxies) {
    return new ForwardedHeaders(trustedProxies);
  }

  /** Trusts nobody: every forwarded header a client sends is replaced. */
  public static ForwardedHeaders trustingNobody() {
    return new ForwardedHeaders(List.of());
  }

  /** The trusted proxy ranges. */
  public List<Cidr> trustedProxies() {
    return trustedProxies;
  }

  /** Whether {@code name} is one of the headers this class writes (case-insensitive). */
  public static boolean owns(String name) {
    switch (name.toLowerCase(Locale.ROOT)) {
      case "x-forwarded-for":
      case "x-forwarded-proto":
      case "x-forwarded-host":
      case "x-forwarded-port":
      case "forwarded":
        return true;
      default:
        return false;
    }
  }

  /** Whether {@code peer} is a trusted proxy. */
  public boolean isTrusted(@Nullable InetSocketAddress peer) {
    InetAddress a = peer == null ? null : peer.getAddress();
    if (a == null) {
      return false;
    }
    for (Cidr c : trustedProxies) {
      if (c.contains(a)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The forwarded headers for the backend, in a fixed order; the adapter appends them after
   * removing every header this class {@linkplain #owns owns}.
   *
   * @param received the request's header values by name (case-insensitive), in order
   * @param peer the TCP peer
   * @param proxySource the source a PROXY protocol header claimed, or null
   * @param secure whether the client connected over TLS
   * @param localPort the port the client connected to
   */
  public List<Map.Entry<String, String>> write(
      Function<String, List<String>> received,
      @Nullable InetSocketAddress peer,
      @Nullable InetSocketAddress proxySource,
      boolean secure,
      int localPort) {
    boolean trusted = isTrusted(peer);
    InetSocketAddress client = trusted && proxySource != null ? proxySource : peer;
    String proto = secure ? "https" : "http";
    List<String> hosts = received.apply("Host");
    String host = hosts.isEmpty() ? null : hosts.get(0);
    List<Map.Entry<String, String>> out = new ArrayList<>(5);
    String address = client == null ? null : text(client);
    String xff = trusted ? joined(received.apply(X_FORWARDED_FOR)) : null;
    if (address != null) {
      out.add(Map.entry(X_FORWARDED_FOR, xff == null ? address : xff + ", " + address));
    } else if (xff != null) {
      out.add(Map.entry(X_FORWARDED_FOR, xff));
    }
    String keptProto = trusted ? last(received.apply(X_FORWARDED_PROTO)) : null;
    out.add(Map.entry(X_FORWARDED_PROTO, keptProto != null ? keptProto : proto));
    String keptHost = trusted ? last(received.apply(X_FORWARDED_HOST)) : null;
    if (keptHost != null || host != null) {
      out.add(Map.entry(X_FORWARDED_HOST, keptHost != null ? keptHost : host));
    }
    String keptPort = trusted ? last(received.apply(X_FORWARDED_PORT)) : null;
    out.add(Map.entry(X_FORWARDED_PORT, keptPort != null ? keptPort : Integer.toString(localPort)));
    StringBuilder element = new StringBuilder();
    if (client != null && client.getAddress() != null) {
      element.append("for=").append(node(client.getAddress()));
    }
    if (host != null) {
      element.append(element.length() == 0 ? "" : ";").append("host=").append(quoted(host));
    }
    element.append(element.length() == 0 ? "" : ";").append("proto=").append(proto);
    String fwd = trusted ? joined(received.apply(FORWARDED)) : null;
    out.add(Map.entry(FORWARDED, fwd == null ? element.toString() : fwd + ", " + element));
    return out;
  }

  private static @Nullable String joined(List<String> values) {
    List<String> nonEmpty = new ArrayList<>(values.size());
    for (String v : values) {
      if (!v.isBlank()) {
        nonEmpty.add(v.trim());
      }
    }
    return nonEmpty.isEmpty() ? null : String.join(", ", nonEmpty);
  }

  private static @Nullable String last(List<String> values) {
    for (int i = values.size() - 1; i >= 0; i--) {
      String v = values.get(i).trim();
      if (!v.isEmpty()) {
        return v;
      }
    }
    return null;
  }

  /** The canonical text of an address: RFC 5952 for IPv6, the host string if unresolved. */
  static String text(InetSocketAddress a) {
    InetAddress ip = a.getAddress();
    return ip == null ? a.getHostString() : InetAddresses.toAddrString(ip);
  }

  /** An RFC 7239 node: IPv6 literals are bracketed and quoted. */
  static String node(InetAddress ip) {
    String text = InetAddresses.toAddrString(ip);
    return ip instanceof Inet6Address ? "\"[" + text + "]\"" : text;
  }

  /** An RFC 7239 value: a token as it is, anything else as a quoted string. */
  static String quoted(String value) {
    boolean token = !value.isEmpty();
    for (int i = 0; i < value.length() && token; i++) {
      char c = value.charAt(i);
      token =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }
    if (token) {
      return value;
    }
    return '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
  }
}

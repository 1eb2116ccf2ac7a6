package dev.affinity.client;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import com.google.common.collect.ImmutableList;
import com.google.common.net.InetAddresses;
import dev.affinity.RoutingRequest;
import dev.affinity.hash.RendezvousHash;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Finds the real client address of a handshake, honouring forwarded information only from trusted
 * proxies.
 *
 * <p>The walk: start at the TCP peer. If the peer is a trusted proxy and sent a PROXY protocol
 * header, move to its source address. While the current hop is trusted, move to the next entry of
 * the configured forwarded header, right to left. Stop at the first hop that is not trusted: that
 * is the client. Entries left of it were written by the client or by proxies we do not trust, and
 * are never read. An entry that is not an IP literal, or a malformed {@code Forwarded} element,
 * stops the walk at the last trusted hop. Every line of the header is one list, in order; at most
 * {@linkplain Builder#maxHops maxHops} entries are read, counted from the right, so no
 * client-written prefix, however long, can push a trusted proxy's entries out of the walk.
 *
 * <pre>{@code
 * ClientAddressResolver resolver = ClientAddressResolver.builder()
 *     .trustedProxies("10.0.0.0/8", "fd00::/8")        // the load balancers in front of us
 *     .forwardedHeader(ForwardedHeader.X_FORWARDED_FOR) // the header they write
 *     .ipv6PrefixLength(64)                             // one key per IPv6 /64
 *     .build();
 * }</pre>
 *
 * <p>Without trusted proxies (the {@linkplain #direct() default}) every header is ignored: the peer
 * is the client. A resolver is immutable and thread-safe; {@link #resolve} never throws.
 */
public final class ClientAddressResolver {
  /** The default maximum number of forwarded entries walked before stopping. */
  public static final int DEFAULT_MAX_HOPS = 32;

  private static final InetAddress UNSPECIFIED = IpAddresses.fromBytes(new byte[4]);
  private static final ClientAddressResolver DIRECT = builder().build();

  private final ImmutableList<Cidr> trustedProxies;
  private final ForwardedHeader header;
  private final boolean proxyProtocol;
  private final int ipv4PrefixLength;
  private final int ipv6PrefixLength;
  private final int maxHops;

  private ClientAddressResolver(Builder b) {
    this.trustedProxies = ImmutableList.copyOf(b.trustedProxies);
    this.header = b.header;
    this.proxyProtocol = b.proxyProtocol;
    this.ipv4PrefixLength = b.ipv4PrefixLength;
    this.ipv6PrefixLength = b.ipv6PrefixLength;
    this.maxHops = b.maxHops;
  }

  /**
   * A resolver that trusts nobody: the TCP peer is the client, and forwarded headers are ignored.
   */
  public static ClientAddressResolver direct() {
    return DIRECT;
  }

  /** Returns a builder; its defaults equal {@link #direct()}. */
  public static Builder builder() {
    return new Builder();
  }

  /** Resolves the client of {@code request}. Never throws. */
  public ClientAddress resolve(RoutingRequest request) {
    InetAddress hop = peer(request.remoteAddress());
    if (!isTrusted(hop)) {
      return new ClientAddress(group(hop), ClientAddress.Source.PEER, null);
    }
    ClientAddress.Source source = ClientAddress.Source.PEER;
    if (proxyProtocol) {
      InetSocketAddress pp = request.proxyProtocolSourceAddress();
      if (pp != null && pp.getAddress() != null) {
        hop = IpAddresses.normalize(pp.getAddress());
        source = ClientAddress.Source.PROXY_PROTOCOL;
        if (!isTrusted(hop)) {
          return new ClientAddress(group(hop), source, null);
        }
      }
    }
    if (header == ForwardedHeader.NONE) {
      return new ClientAddress(group(hop), source, null);
    }
    List<String> values = request.headers(header.headerName());
    if (values.isEmpty()) {
      return new ClientAddress(group(hop), source, null);
    }
    List<String> nodes =
        header == ForwardedHeader.FORWARDED
            ? ForwardedParser.forwardedFor(values, maxHops)
            : ForwardedParser.xForwardedFor(values, maxHops);
    ClientAddress.Source headerSource =
        header == ForwardedHeader.FORWARDED
            ? ClientAddress.Source.FORWARDED
            : ClientAddress.Source.X_FORWARDED_FOR;
    // Rightmost first: the entries the trusted proxies appended, never displaced by a client
    // prefix.
    for (int i = 0; i < nodes.size(); i++) {
      String node = nodes.get(i);
      InetAddress next = IpAddresses.parseNode(node);
      if (next == null) {
        if (header == ForwardedHeader.FORWARDED && isObfuscated(node)) {
          // RFC 7239 section 6.3: the trusted proxy hid the client; its identifier is the key.
          return new ClientAddress(group(hop), headerSource, node);
        }
        break;
      }
      hop = next;
      source = headerSource;
      if (!isTrusted(hop)) {
        break;
      }
    }
    return new ClientAddress(group(hop), source, null);
  }

  /**
   * The pinned key hash of the client (see {@link RendezvousHash}): the address bytes, or the UTF-8
   * bytes of an obfuscated identifier. Avoids allocation when the peer is not a trusted proxy.
   */
  public long keyHash(RoutingRequest request) {
    InetSocketAddress remote = request.remoteAddress();
    InetAddress raw = remote == null ? null : remote.getAddress();
    if (raw instanceof Inet6Address) {
      // Fast path for an IPv6 peer: one copy of its bytes, normalised, masked and hashed in place.
      byte[] b = raw.getAddress();
      if (!IpAddresses.isIpv4Mapped(b)) {
        InetAddress peer = ((Inet6Address) raw).getScopeId() == 0 ? raw : IpAddresses.fromBytes(b);
        if (!isTrusted(peer)) {
          return RendezvousHash.keyHash(
              ipv6PrefixLength == 128 ? b : IpAddresses.mask(b, ipv6PrefixLength));
        }
      }
    }
    InetAddress peer = peer(remote);
    if (!isTrusted(peer)) {
      return hashAddress(group(peer));
    }
    ClientAddress client = resolve(request);
    String obfuscated = client.obfuscatedIdentifier();
    return obfuscated != null ? RendezvousHash.keyHash(obfuscated) : hashAddress(client.address());
  }

  /** Whether {@code address} is in one of the trusted proxy ranges. */
  public boolean isTrusted(InetAddress address) {
    for (int i = 0; i < trustedProxies.size(); i++) {
      if (trustedProxies.get(i).contains(address)) {
        return true;
      }
    }
    return false;
  }

  private static long hashAddress(InetAddress a) {
    return a instanceof Inet4Address
        ? RendezvousHash.keyHashIpv4(a.hashCode())
        : RendezvousHash.keyHash(a.getAddress());
  }

  private static InetAddress peer(@Nullable InetSocketAddress remote) {
    if (remote == null) {
      return UNSPECIFIED;
    }
    InetAddress a = remote.getAddress();
    if (a == null) {
      // Unresolved: accept an IP literal, never look a name up.
      InetAddress parsed = IpAddresses.parseNode(remote.getHostString());
      return parsed == null ? UNSPECIFIED : parsed;
    }
    return IpAddresses.normalize(a);
  }

  private InetAddress group(InetAddress a) {
    int prefix = a instanceof Inet4Address ? ipv4PrefixLength : ipv6PrefixLength;
    int bits = a instanceof Inet4Address ? 32 : 128;
    return prefix == bits ? a : IpAddresses.fromBytes(IpAddresses.mask(a.getAddress(), prefix));
  }

  private static boolean isObfuscated(String node) {
    String n = node.trim();
    return n.equalsIgnoreCase("unknown") || (n.length() > 1 && n.charAt(0) == '_');
  }

  /** Lists the trusted ranges and settings, reading like the builder calls that made it. */
  @Override
  public String toString() {
    List<String> ranges = new ArrayList<>();
    for (Cidr c : trustedProxies) {
      ranges.add(c.notation());
    }
    return "ClientAddressResolver{trustedProxies="
        + ranges
        + ", forwardedHeader="
        + header
        + ", proxyProtocol="
        + proxyProtocol
        + ", ipv4PrefixLength="
        + ipv4PrefixLength
        + ", ipv6PrefixLength="
        + ipv6PrefixLength
        + "}";
  }

  /** Builds a {@link ClientAddressResolver}. Each setter validates its value. */
  public static final class Builder {
    private final List<Cidr> trustedProxies = new ArrayList<>();
    private ForwardedHeader header = ForwardedHeader.X_FORWARDED_FOR;
    private boolean proxyProtocol = true;
    private int ipv4PrefixLength = 32;
    private int ipv6PrefixLength = 128;
    private int maxHops = DEFAULT_MAX_HOPS;

    private Builder() {}

    /**
     * Adds trusted proxy ranges in CIDR notation ({@code 10.0.0.0/8}, {@code ::1}).
     *
     * @throws dev.affinity.AffinityConfigurationException if a range does not parse
     */
    public Builder trustedProxies(String... cidrs) {
      for (String c : cidrs) {
        trustedProxies.add(Cidr.parse(c));
      }
      return this;
    }

    /** Adds trusted proxy ranges. */
    public Builder trustedProxies(Iterable<Cidr> cidrs) {
      for (Cidr c : cidrs) {
        trustedProxies.add(requireNonNull(c, "cidr"));
      }
      return this;
    }

    /**
     * The header the trusted proxies write; default {@link ForwardedHeader#X_FORWARDED_FOR}. Only
     * this header is read.
     */
    public Builder forwardedHeader(ForwardedHeader header) {
      this.header = requireNonNull(header, "header");
      return this;
    }

    /**
     * Whether a PROXY protocol source address (decoded by the adapter) is honoured when the peer is
     * a trusted proxy; default true.
     */
    public Builder proxyProtocol(boolean enabled) {
      this.proxyProtocol = enabled;
      return this;
    }

    /**
     * Groups IPv4 clients by prefix, for example 24 to keep a carrier-grade NAT pool together;
     * default 32 (no grouping).
     *
     * @throws dev.affinity.AffinityConfigurationException unless 1..32
     */
    public Builder ipv4PrefixLength(int bits) {
      check(bits >= 1 && bits <= 32, "ipv4PrefixLength", bits, "1..32");
      this.ipv4PrefixLength = bits;
      return this;
    }

    /**
     * Groups IPv6 clients by prefix, for example 64, since one subscriber usually holds a whole /64
     * and rotates addresses within it; default 128 (no grouping).
     *
     * @throws dev.affinity.AffinityConfigurationException unless 1..128
     */
    public Builder ipv6PrefixLength(int bits) {
      check(bits >= 1 && bits <= 128, "ipv6PrefixLength", bits, "1..128");
      this.ipv6PrefixLength = bits;
      return this;
    }

    /**
     * The most forwarded entries walked, counted from the right (the peer's side); a longer chain
     * of trusted proxies stops at the last trusted hop walked. Default {@value
     * ClientAddressResolver#DEFAULT_MAX_HOPS}.
     *
     * @throws dev.affinity.AffinityConfigurationException unless 1..1000
     */
    public Builder maxHops(int maxHops) {
      check(maxHops >= 1 && maxHops <= 1000, "maxHops", maxHops, "1..1000");
      this.maxHops = maxHops;
      return this;
    }

    /** Returns an immutable resolver. */
    public ClientAddressResolver build() {
      return new ClientAddressResolver(this);
    }
  }

  static String describe(InetAddress a) {
    return InetAddresses.toAddrString(a);
  }
}

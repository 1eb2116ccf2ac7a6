package dev.affinity.client;

import static java.util.Objects.requireNonNull;

import com.google.common.net.InetAddresses;
import dev.affinity.AffinityConfigurationException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Arrays;

/**
 * An IP address range in CIDR notation, such as {@code 10.0.0.0/8} or {@code 2001:db8::/32}. A bare
 * address is a range of one.
 *
 * <p>IPv4-mapped IPv6 addresses ({@code ::ffff:10.1.2.3}) are treated as the IPv4 address they map,
 * both in the range and in {@link #contains}.
 */
public final class Cidr {
  private final byte[] network;
  private final int prefixLength;
  private final int v4Network;
  private final int v4Mask;

  private Cidr(byte[] network, int prefixLength) {
    this.network = network;
    this.prefixLength = prefixLength;
    if (network.length == 4) {
      this.v4Mask = prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
      this.v4Network =
          ((network[0] & 0xff) << 24)
              | ((network[1] & 0xff) << 16)
              | ((network[2] & 0xff) << 8)
              | (network[3] & 0xff);
    } else {
      this.v4Mask = 0;
      this.v4Network = 0;
    }
  }

  /**
   * Parses {@code "address/prefix"} or a bare address. No DNS lookups are made.
   *
   * @throws AffinityConfigurationException if the text is not an IP literal with an optional prefix
   *     length that fits the address family
   */
  public static Cidr parse(String cidr) {
    requireNonNull(cidr, "cidr");
    String text = cidr.trim();
    int slash = text.indexOf('/');
    String addressText = slash < 0 ? text : text.substring(0, slash);
    InetAddress address;
    try {
      address = IpAddresses.normalize(InetAddresses.forString(addressText));
    } catch (IllegalArgumentException e) {
      throw new AffinityConfigurationException(
          "cidr: '" + cidr + "' (expected: an IP literal with an optional /prefix)", e);
    }
    byte[] bytes = address.getAddress();
    // An IPv4-mapped range written in IPv6 form (::ffff:10.0.0.0/104) keeps its meaning.
    boolean mapped = bytes.length == 4 && addressText.contains(":");
    int max = mapped ? 128 : bytes.length * 8;
    int min = mapped ? 96 : 0;
    int prefix = max;
    if (slash >= 0) {
      String expected = "a prefix length " + min + ".." + max;
      try {
        prefix = Integer.parseInt(text.substring(slash + 1));
      } catch (NumberFormatException e) {
        throw new AffinityConfigurationException(
            "cidr: '" + cidr + "' (expected: " + expected + ")", e);
      }
      if (prefix < min || prefix > max) {
        throw new AffinityConfigurationException(
            "cidr: '" + cidr + "' (expected: " + expected + ")");
      }
    }
    if (mapped) {
      prefix -= 96;
    }
    return new Cidr(IpAddresses.mask(bytes, prefix), prefix);
  }

  /** Whether {@code address} is in this range; an address of the other family never is. */
  public boolean contains(InetAddress address) {
    InetAddress a = IpAddresses.normalize(address);
    if (a instanceof Inet4Address) {
      // Inet4Address.hashCode() is the address as a big-endian int: no array copy on the hot path.
      return network.length == 4 && (a.hashCode() & v4Mask) == v4Network;
    }
    byte[] bytes = a.getAddress();
    if (bytes.length != network.length) {
      return false;
    }
    int full = prefixLength / 8;
    for (int i = 0; i < full; i++) {
      if (bytes[i] != network[i]) {
        return false;
      }
    }
    int rest = prefixLength % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xff << (8 - rest)) & 0xff;
    return (bytes[full] & mask) == (network[full] & mask);
  }

  /** The prefix length. */
  public int prefixLength() {
    return prefixLength;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Cidr
        && prefixLength == ((Cidr) o).prefixLength
        && Arrays.equals(network, ((Cidr) o).network);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(network) + prefixLength;
  }

  /** Reads like the call that made it: {@code Cidr.parse("10.0.0.0/8")}. */
  @Override
  public String toString() {
    return "Cidr.parse(\"" + notation() + "\")";
  }

  /** The range in CIDR notation, such as {@code 10.0.0.0/8}. */
  public String notation() {
    try {
      return InetAddresses.toAddrString(InetAddress.getByAddress(network)) + "/" + prefixLength;
    } catch (java.net.UnknownHostException e) {
      throw new AssertionError(e); // a 4 or 16 byte array is always accepted
    }
  }
}

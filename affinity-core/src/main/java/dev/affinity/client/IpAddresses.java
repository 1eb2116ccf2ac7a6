package dev.affinity.client;

import com.google.common.net.InetAddresses;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import org.jspecify.annotations.Nullable;

/** Address helpers: normalisation, masking, and parsing of forwarded node values. */
final class IpAddresses {
  private IpAddresses() {}

  /**
   * Unmaps IPv4-mapped IPv6 ({@code ::ffff:a.b.c.d}) to IPv4; other addresses are returned as is.
   */
  static InetAddress normalize(InetAddress address) {
    if (!(address instanceof Inet6Address)) {
      return address;
    }
    byte[] b = address.getAddress();
    if (isIpv4Mapped(b)) {
      return fromBytes(new byte[] {b[12], b[13], b[14], b[15]});
    }
    // Drop a scope id so that the same address always hashes and compares the same.
    if (((Inet6Address) address).getScopeId() != 0) {
      return fromBytes(b);
    }
    return address;
  }

  /** Whether 16 address bytes are an IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d}). */
  static boolean isIpv4Mapped(byte[] b) {
    boolean zeroPrefix = true;
    for (int i = 0; i < 10; i++) {
      zeroPrefix &= b[i] == 0;
    }
    return zeroPrefix && b[10] == (byte) 0xff && b[11] == (byte) 0xff;
  }

  static byte[] mask(byte[] bytes, int prefixLength) {
    byte[] out = bytes.clone();
    for (int bit = prefixLength; bit < out.length * 8; bit++) {
      out[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
    }
    return out;
  }

  static InetAddress fromBytes(byte[] bytes) {
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new AssertionError(e); // 4 or 16 bytes are always accepted
    }
  }

  /**
   * Parses a forwarded node: {@code 192.0.2.1}, {@code 192.0.2.1:1234}, {@code 2001:db8::1}, {@code
   * [2001:db8::1]} or {@code [2001:db8::1]:1234}. Returns null for anything else; never resolves
   * names and never throws.
   */
  static @Nullable InetAddress parseNode(String node) {
    String s = node.trim();
    if (s.isEmpty() || s.length() > 64) {
      return null;
    }
    if (s.charAt(0) == '[') {
      int close = s.indexOf(']');
      if (close < 0) {
        return null;
      }
      String rest = s.substring(close + 1);
      if (!rest.isEmpty() && !isPort(rest)) {
        return null;
      }
      return v6Literal(s.substring(1, close));
    }
    int colon = s.indexOf(':');
    if (colon >= 0 && colon == s.lastIndexOf(':')) {
      // IPv4 with a port.
      if (!isPort(s.substring(colon))) {
        return null;
      }
      s = s.substring(0, colon);
    }
    return literal(s);
  }

  private static boolean isPort(String colonAndPort) {
    if (colonAndPort.length() < 2 || colonAndPort.length() > 6 || colonAndPort.charAt(0) != ':') {
      return false;
    }
    for (int i = 1; i < colonAndPort.length(); i++) {
      char c = colonAndPort.charAt(i);
      if (c < '0' || c > '9') {
        // RFC 7239 allows obfuscated ports ("_abc"); accept them, the port is not used.
        if (!(c == '_' && i == 1) && !(Character.isLetterOrDigit(c) || c == '.' || c == '-')) {
          return false;
        }
      }
    }
    return true;
  }

  private static @Nullable InetAddress v6Literal(String s) {
    InetAddress a = literal(s);
    return a == null || (!(a instanceof Inet6Address) && s.indexOf(':') < 0) ? null : a;
  }

  private static @Nullable InetAddress literal(String s) {
    if (s.indexOf('%') >= 0) {
      return null; // zone ids are local to the sender; a forwarded one is meaningless
    }
    try {
      return normalize(InetAddresses.forString(s));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  static boolean isIpv4(InetAddress a) {
    return a instanceof Inet4Address;
  }
}

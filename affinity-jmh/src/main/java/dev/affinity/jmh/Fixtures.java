package dev.affinity.jmh;

import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** The backends, client addresses and request views every benchmark shares, built from seeds. */
final class Fixtures {
  /**
   * Keys per benchmark: a power of two, so a cursor wraps with a mask; fits in L2 with its views.
   */
  static final int KEYS = 1024;

  static final int MASK = KEYS - 1;

  /** The header that the header-key strategy reads. */
  static final String USER_HEADER = "X-User-Id";

  private Fixtures() {}

  /** Backend ids in the order the peers index them. */
  static List<String> ids(int n) {
    List<String> ids = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ids.add("backend-" + i);
    }
    return ids;
  }

  /** A group of {@code n} UP backends; weighted ones get weights 1, 2, 3, 4, 1, ... */
  static BackendGroup group(int n, boolean weighted) {
    BackendGroup g = BackendGroup.create();
    List<String> ids = ids(n);
    for (int i = 0; i < n; i++) {
      Backend b = Backend.of(ids.get(i), "10.1." + (i / 250) + "." + (i % 250 + 1), 8080);
      g.add(weighted ? b.withWeight(1 + i % 4) : b);
    }
    return g;
  }

  /**
   * {@link #KEYS} distinct client addresses: random public-looking IPv4 addresses, or random
   * addresses in 2001:db8::/32 for {@code "ipv6"}.
   */
  static InetAddress[] addresses(String family, long seed) {
    Random r = new Random(seed);
    InetAddress[] out = new InetAddress[KEYS];
    java.util.Set<InetAddress> seen = new java.util.HashSet<>();
    for (int i = 0; i < KEYS; ) {
      byte[] b;
      if (family.equals("ipv4")) {
        b = new byte[4];
        r.nextBytes(b);
        b[0] = (byte) (1 + r.nextInt(222)); // 1..222: unicast, not multicast
      } else if (family.equals("ipv6")) {
        b = new byte[16];
        r.nextBytes(b);
        b[0] = 0x20;
        b[1] = 0x01;
        b[2] = 0x0d;
        b[3] = (byte) 0xb8;
      } else {
        throw new IllegalArgumentException("family: " + family + " (expected: ipv4 or ipv6)");
      }
      InetAddress a;
      try {
        a = InetAddress.getByAddress(b);
      } catch (UnknownHostException e) {
        throw new AssertionError(e);
      }
      if (seen.add(a)) {
        out[i++] = a;
      }
    }
    return out;
  }

  /** The key bytes the peers hash: the address bytes, as the core's client IP key does. */
  static byte[][] keyBytes(InetAddress[] addresses) {
    byte[][] out = new byte[addresses.length][];
    for (int i = 0; i < addresses.length; i++) {
      out[i] = addresses[i].getAddress();
    }
    return out;
  }

  /** One handshake view per address, with a user header, built once (as an adapter's view). */
  static RoutingRequest[] requests(InetAddress[] addresses) {
    RoutingRequest[] out = new RoutingRequest[addresses.length];
    for (int i = 0; i < addresses.length; i++) {
      out[i] =
          RoutingRequest.builder()
              .remoteAddress(new InetSocketAddress(addresses[i], 40_000 + i))
              .method("GET")
              .path("/ws")
              .header("Host", "lb.example")
              .header("Upgrade", "websocket")
              .header("Connection", "Upgrade")
              .header("Sec-WebSocket-Version", "13")
              .header(USER_HEADER, "user-" + Integer.toHexString(addresses[i].hashCode()) + "-" + i)
              .build();
    }
    return out;
  }
}

package dev.affinity.strategy;

import com.google.common.net.InetAddresses;
import dev.affinity.RoutingRequest;
import dev.affinity.client.ClientAddress;
import dev.affinity.client.ClientAddressResolver;
import dev.affinity.hash.RendezvousHash;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/** The built-in {@link RoutingKey} implementations. */
final class Keys {
  private static final int MAX_SHOWN = 64;

  private Keys() {}

  static final class TextKey implements RoutingKey {
    private final String name;
    private final Function<RoutingRequest, @Nullable String> extractor;
    private final boolean showValue;

    TextKey(String name, Function<RoutingRequest, @Nullable String> extractor, boolean showValue) {
      this.name = name;
      this.extractor = extractor;
      this.showValue = showValue;
    }

    private @Nullable String value(RoutingRequest request) {
      String v;
      try {
        v = extractor.apply(request);
      } catch (RuntimeException e) {
        return null;
      }
      return v == null || v.isBlank() ? null : v;
    }

    @Override
    public long hash(RoutingRequest request) {
      String v = value(request);
      return v == null ? ABSENT : RendezvousHash.keyHash(v);
    }

    @Override
    public @Nullable String describe(RoutingRequest request) {
      String v = value(request);
      if (v == null) {
        return null;
      }
      if (!showValue) {
        return name + " (hash " + Long.toHexString(RendezvousHash.keyHash(v)) + ")";
      }
      String shown = v.length() > MAX_SHOWN ? v.substring(0, MAX_SHOWN) + "..." : v;
      return name + "=" + printable(shown);
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public String toString() {
      return "RoutingKey{" + name + "}";
    }
  }

  static final class ClientIpKey implements RoutingKey {
    private final ClientAddressResolver resolver;

    ClientIpKey(ClientAddressResolver resolver) {
      this.resolver = resolver;
    }

    @Override
    public long hash(RoutingRequest request) {
      return resolver.keyHash(request);
    }

    @Override
    public String describe(RoutingRequest request) {
      ClientAddress client = resolver.resolve(request);
      String obfuscated = client.obfuscatedIdentifier();
      String source;
      switch (client.source()) {
        case X_FORWARDED_FOR:
          source = "X-Forwarded-For";
          break;
        case FORWARDED:
          source = "Forwarded";
          break;
        case PROXY_PROTOCOL:
          source = "PROXY protocol";
          break;
        default:
          source = "the TCP peer";
      }
      String peer = "peer " + printable(String.valueOf(request.remoteAddress()));
      if (obfuscated != null) {
        return "client identifier "
            + printable(obfuscated)
            + " from "
            + source
            + " (trusted hop "
            + InetAddresses.toAddrString(client.address())
            + ", "
            + peer
            + ")";
      }
      return "client IP "
          + InetAddresses.toAddrString(client.address())
          + " from "
          + source
          + (client.source() == ClientAddress.Source.PEER ? "" : " (" + peer + " is trusted)");
    }

    @Override
    public String name() {
      return "client IP";
    }

    @Override
    public String toString() {
      return "RoutingKey{client IP, " + resolver + "}";
    }
  }

  /** The {@code index}th non-empty segment of {@code path}, or null. */
  static @Nullable String segment(String path, int index) {
    int seen = 0;
    int i = 0;
    int n = path.length();
    while (i < n) {
      while (i < n && path.charAt(i) == '/') {
        i++;
      }
      int start = i;
      while (i < n && path.charAt(i) != '/') {
        i++;
      }
      if (i > start) {
        if (seen == index) {
          return path.substring(start, i);
        }
        seen++;
      }
    }
    return null;
  }

  /** Replaces control and non-ASCII characters so that client text cannot forge log lines. */
  static String printable(String s) {
    StringBuilder sb = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c >= 0x7f) {
        if (sb == null) {
          sb = new StringBuilder(s.length()).append(s, 0, i);
        }
        sb.append('?');
      } else if (sb != null) {
        sb.append(c);
      }
    }
    return sb == null ? s : sb.toString();
  }
}

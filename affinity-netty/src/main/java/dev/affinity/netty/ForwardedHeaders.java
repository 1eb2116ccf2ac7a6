package dev.affinity.netty;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * Adds {@code X-Forwarded-For} (appended), {@code X-Forwarded-Proto} (if absent) and an RFC 7239
 * {@code Forwarded} element (appended) for the hop from the client to us.
 */
final class ForwardedHeaders {
  private static final String X_FORWARDED_FOR = "X-Forwarded-For";
  private static final String X_FORWARDED_PROTO = "X-Forwarded-Proto";

  private ForwardedHeaders() {}

  static void add(
      HttpRequest req,
      @Nullable SocketAddress peer,
      @Nullable InetSocketAddress proxySource,
      boolean secure) {
    InetSocketAddress client =
        proxySource != null
            ? proxySource
            : peer instanceof InetSocketAddress ? (InetSocketAddress) peer : null;
    InetAddress ip = client == null ? null : client.getAddress();
    String proto = secure ? "https" : "http";
    HttpHeaders h = req.headers();
    if (ip != null) {
      String text = ip.getHostAddress();
      appendList(h, X_FORWARDED_FOR, text);
      String node = ip instanceof Inet6Address ? "\"[" + text + "]\"" : text;
      StringBuilder element =
          new StringBuilder("for=").append(node).append(";proto=").append(proto);
      String host = h.get(HttpHeaderNames.HOST);
      if (host != null) {
        element
            .append(";host=\"")
            .append(host.replace("\\", "\\\\").replace("\"", "\\\""))
            .append('"');
      }
      appendList(h, "Forwarded", element.toString());
    }
    if (!h.contains(X_FORWARDED_PROTO)) {
      h.set(X_FORWARDED_PROTO, proto);
    }
  }

  /** Appends {@code value} to a comma-separated header, merging earlier lines into one. */
  private static void appendList(HttpHeaders h, String name, String value) {
    java.util.List<String> old = h.getAll(name);
    if (old.isEmpty()) {
      h.set(name, value);
    } else {
      h.set(name, String.join(", ", old) + ", " + value);
    }
  }
}

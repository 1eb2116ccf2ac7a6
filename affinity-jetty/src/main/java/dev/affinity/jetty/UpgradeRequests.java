package dev.affinity.jetty;

import dev.affinity.internal.http.ForwardedHeaders;
import dev.affinity.internal.http.HandshakeRules;
import dev.affinity.internal.http.WebSocketAttempt;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.server.Request;
import org.jspecify.annotations.Nullable;

/** Recognising, validating and re-encoding WebSocket upgrade requests (RFC 6455 section 4.2.1). */
final class UpgradeRequests {
  private UpgradeRequests() {}

  /**
   * Whether the request tries to open a WebSocket: an {@code Upgrade} token "websocket", or any
   * {@code Sec-WebSocket-Key}/{@code -Version} field. A broken attempt (say, without {@code
   * Upgrade}) is answered 400 here rather than passed on as if it were a plain request.
   */
  static boolean isWebSocketAttempt(Request request) {
    return WebSocketAttempt.is(request.getHeaders()::getValuesList);
  }

  /**
   * Checks an upgrade request by the rules both adapters share ({@link HandshakeRules}); null when
   * it may be routed. Messages name what is wrong and never echo header values.
   */
  static HandshakeRules.@Nullable Problem validate(
      Request request, int maxHeadBytes, int maxHeaderCount) {
    return HandshakeRules.check(
        request.getMethod(),
        request.getConnectionMetaData().getHttpVersion().asString(),
        request.getHttpURI().asString(),
        fields(request),
        maxHeaderCount,
        maxHeadBytes);
  }

  /**
   * Checks a plain request the handler proxies by the head rules both adapters share ({@link
   * HandshakeRules#checkPlain}: request target, {@code Host}, field count and head size, control
   * characters); null when it may be routed.
   */
  static HandshakeRules.@Nullable Problem checkPlain(
      Request request, int maxHeadBytes, int maxHeaderCount) {
    return HandshakeRules.checkPlain(
        request.getMethod(),
        request.getConnectionMetaData().getHttpVersion().asString(),
        request.getHttpURI().asString(),
        fields(request),
        maxHeaderCount,
        maxHeadBytes);
  }

  private static List<Map.Entry<String, String>> fields(Request request) {
    List<Map.Entry<String, String>> fields = new ArrayList<>(request.getHeaders().size());
    for (HttpField f : request.getHeaders()) {
      String v = f.getValue();
      fields.add(Map.entry(f.getName(), v == null ? "" : v));
    }
    return fields;
  }

  /**
   * Encodes the request head to send to a backend: the request line and every header field as
   * received, in order, except the forwarded headers, which {@code forwarding} writes (kept and
   * appended to only from a trusted proxy, replaced otherwise); with a null {@code forwarding}
   * every field is passed as received.
   */
  static ByteBuffer forwardedHead(
      Request request,
      InetSocketAddress peer,
      @Nullable InetSocketAddress proxySource,
      @Nullable ForwardedHeaders forwarding) {
    StringBuilder sb = new StringBuilder(512);
    HttpURI uri = request.getHttpURI();
    String target = uri.getPathQuery();
    sb.append(request.getMethod())
        .append(' ')
        .append(target == null || target.isEmpty() ? "/" : target)
        .append(" HTTP/1.1\r\n");
    for (HttpField f : request.getHeaders()) {
      String name = f.getName();
      if (forwarding != null && ForwardedHeaders.owns(name)) {
        continue;
      }
      String value = f.getValue() == null ? "" : f.getValue();
      sb.append(name).append(": ").append(value).append("\r\n");
    }
    if (forwarding != null) {
      HttpFields fields = request.getHeaders();
      for (Map.Entry<String, String> e :
          forwarding.write(
              fields::getValuesList,
              peer,
              proxySource,
              request.isSecure(),
              Request.getLocalPort(request))) {
        sb.append(e.getKey()).append(": ").append(e.getValue()).append("\r\n");
      }
    }
    sb.append("\r\n");
    // Jetty's parser only admits visible ISO-8859-1 in fields, so this encoding is lossless.
    return ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.ISO_8859_1)).asReadOnlyBuffer();
  }
}

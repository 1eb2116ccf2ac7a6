package dev.affinity.jetty;

import com.google.common.io.BaseEncoding;
import dev.affinity.internal.http.ForwardedHeaders;
import dev.affinity.internal.http.WebSocketAttempt;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.Request;
import org.jspecify.annotations.Nullable;

/** Recognising, validating and re-encoding WebSocket upgrade requests (RFC 6455 section 4.2.1). */
final class UpgradeRequests {
  private UpgradeRequests() {}

  /** Why a handshake cannot be routed, as the status to answer. */
  record Problem(int status, String message) {}

  /**
   * Whether the request tries to open a WebSocket: an {@code Upgrade} token "websocket", or any
   * {@code Sec-WebSocket-Key}/{@code -Version} field. A broken attempt (say, without {@code
   * Upgrade}) is answered 400 here rather than passed on as if it were a plain request.
   */
  static boolean isWebSocketAttempt(Request request) {
    return WebSocketAttempt.is(request.getHeaders()::getValuesList);
  }

  /**
   * Checks an upgrade request; null when it may be routed. Messages name what is wrong and never
   * echo header values.
   */
  static @Nullable Problem validate(Request request, int maxHeadBytes, int maxHeaderCount) {
    HttpFields headers = request.getHeaders();
    int count = 0;
    long bytes = request.getMethod().length() + request.getHttpURI().asString().length() + 12L;
    for (HttpField f : headers) {
      count++;
      bytes += f.getName().length() + (f.getValue() == null ? 0 : f.getValue().length()) + 4L;
    }
    if (count > maxHeaderCount) {
      return new Problem(
          HttpStatus.REQUEST_HEADER_FIELDS_TOO_LARGE_431,
          "too many header fields: " + count + " (limit " + maxHeaderCount + ")");
    }
    if (bytes > maxHeadBytes) {
      return new Problem(
          HttpStatus.REQUEST_HEADER_FIELDS_TOO_LARGE_431,
          "request head too large: " + bytes + " bytes (limit " + maxHeadBytes + ")");
    }
    if (request.getConnectionMetaData().getHttpVersion() != HttpVersion.HTTP_1_1) {
      return bad("WebSocket upgrade needs HTTP/1.1");
    }
    if (!HttpMethod.GET.is(request.getMethod())) {
      return bad("WebSocket upgrade needs GET, not " + printable(request.getMethod()));
    }
    if (!hasToken(headers, HttpHeader.UPGRADE, "websocket")) {
      return bad("missing Upgrade: websocket");
    }
    if (!hasToken(headers, HttpHeader.CONNECTION, "upgrade")) {
      return bad("missing Connection: upgrade");
    }
    List<String> keys = headers.getValuesList(HttpHeader.SEC_WEBSOCKET_KEY);
    if (keys.size() != 1 || !isValidKey(keys.get(0))) {
      return bad("Sec-WebSocket-Key must be one base64 value of 16 bytes");
    }
    List<String> versions = headers.getValuesList(HttpHeader.SEC_WEBSOCKET_VERSION);
    if (versions.isEmpty()) {
      return bad("missing Sec-WebSocket-Version");
    }
    if (versions.size() != 1 || !"13".equals(versions.get(0).trim())) {
      return new Problem(HttpStatus.UPGRADE_REQUIRED_426, "unsupported Sec-WebSocket-Version");
    }
    if (headers.contains(HttpHeader.TRANSFER_ENCODING)
        || headers.getLongField(HttpHeader.CONTENT_LENGTH) > 0) {
      return bad("a WebSocket handshake has no body");
    }
    return null;
  }

  private static Problem bad(String message) {
    return new Problem(HttpStatus.BAD_REQUEST_400, message);
  }

  private static boolean isValidKey(String key) {
    String k = key.trim();
    if (k.length() != 24) {
      return false;
    }
    try {
      return BaseEncoding.base64().decode(k).length == 16;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static String printable(String s) {
    String cut = s.length() > 16 ? s.substring(0, 16) + "..." : s;
    return cut.replaceAll("[^\\x21-\\x7e]", "?");
  }

  /** Whether a comma-separated header has {@code token}, case-insensitively, in any value. */
  static boolean hasToken(HttpFields headers, HttpHeader header, String token) {
    for (HttpField f : headers) {
      if (f.getHeader() == header || header.is(f.getName())) {
        String v = f.getValue();
        if (v == null) {
          continue;
        }
        for (String part : v.split(",", -1)) {
          if (part.trim().equalsIgnoreCase(token)) {
            return true;
          }
        }
      }
    }
    return false;
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

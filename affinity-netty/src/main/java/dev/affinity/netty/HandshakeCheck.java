package dev.affinity.netty;

import dev.affinity.internal.http.RequestTarget;
import dev.affinity.internal.http.WebSocketAttempt;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Classifies a request head: a valid WebSocket upgrade, something else, or a bad request. */
final class HandshakeCheck {
  /** The verdict on a request head. */
  enum Kind {
    WEBSOCKET,
    NOT_WEBSOCKET,
    BAD
  }

  static final HandshakeCheck WEBSOCKET = new HandshakeCheck(Kind.WEBSOCKET, null, "");
  static final HandshakeCheck NOT_WEBSOCKET = new HandshakeCheck(Kind.NOT_WEBSOCKET, null, "");

  final Kind kind;
  final @Nullable HttpResponseStatus status;
  final String reason;

  private HandshakeCheck(Kind kind, @Nullable HttpResponseStatus status, String reason) {
    this.kind = kind;
    this.status = status;
    this.reason = reason;
  }

  private static HandshakeCheck bad(HttpResponseStatus status, String reason) {
    return new HandshakeCheck(Kind.BAD, status, reason);
  }

  static HandshakeCheck of(HttpRequest req) {
    if (req.decoderResult().isFailure()) {
      Throwable cause = req.decoderResult().cause();
      if (cause instanceof TooLongHttpHeaderException) {
        return bad(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request header too large");
      }
      if (cause instanceof TooLongHttpLineException) {
        return bad(HttpResponseStatus.REQUEST_URI_TOO_LONG, "request line too long");
      }
      return bad(HttpResponseStatus.BAD_REQUEST, "malformed request");
    }
    HttpHeaders h = req.headers();
    if (!WebSocketAttempt.is(h::getAll)) {
      return NOT_WEBSOCKET;
    }
    boolean connectionUpgrade =
        h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
    String problem = problem(req, connectionUpgrade);
    if (problem != null) {
      return bad(HttpResponseStatus.BAD_REQUEST, problem);
    }
    if (!"13".equals(h.get(HttpHeaderNames.SEC_WEBSOCKET_VERSION))) {
      return bad(HttpResponseStatus.UPGRADE_REQUIRED, "Sec-WebSocket-Version must be 13");
    }
    return WEBSOCKET;
  }

  private static @Nullable String problem(HttpRequest req, boolean connectionUpgrade) {
    HttpHeaders h = req.headers();
    if (!HttpMethod.GET.equals(req.method())) {
      return "a WebSocket upgrade must be a GET";
    }
    if (!HttpVersion.HTTP_1_1.equals(req.protocolVersion())) {
      return "a WebSocket upgrade must be HTTP/1.1";
    }
    if (!WebSocketAttempt.hasToken(h.getAll(HttpHeaderNames.UPGRADE), "websocket")) {
      return "missing Upgrade: websocket";
    }
    if (!connectionUpgrade) {
      return "missing Connection: upgrade";
    }
    if (h.getAll(HttpHeaderNames.HOST).size() != 1 || h.get(HttpHeaderNames.HOST).isEmpty()) {
      return "exactly one Host header required";
    }
    if (RequestTarget.originForm(req.uri()) == null) {
      return "bad request target";
    }
    List<String> keys = h.getAll(HttpHeaderNames.SEC_WEBSOCKET_KEY);
    if (keys.size() != 1 || !validKey(keys.get(0))) {
      return "Sec-WebSocket-Key must be 16 bytes in base64";
    }
    if (h.getAll(HttpHeaderNames.SEC_WEBSOCKET_VERSION).size() != 1) {
      return "exactly one Sec-WebSocket-Version required";
    }
    for (Map.Entry<String, String> e : h) {
      if (!validValue(e.getValue())) {
        return "control character in header " + e.getKey();
      }
    }
    return null;
  }

  private static boolean validKey(String key) {
    String k = key.trim();
    if (k.length() != 24) {
      return false;
    }
    try {
      return Base64.getDecoder().decode(k).length == 16;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static boolean validValue(String v) {
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        return false;
      }
    }
    return true;
  }
}

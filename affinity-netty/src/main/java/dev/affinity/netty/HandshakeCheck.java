package dev.affinity.netty;

import dev.affinity.internal.http.HandshakeRules;
import dev.affinity.internal.http.RequestTarget;
import dev.affinity.internal.http.WebSocketAttempt;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import org.jspecify.annotations.Nullable;

/**
 * Classifies a request head: a valid WebSocket upgrade, something else, or a bad request. Netty's
 * decoder errors are mapped here; everything else is the shared {@link HandshakeRules}.
 */
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

  static HandshakeCheck of(HttpRequest req, AffinityProxyConfig config) {
    if (req.decoderResult().isFailure()) {
      Throwable cause = req.decoderResult().cause();
      if (cause instanceof TooLongHttpHeaderException && !RequestTarget.parses(req.uri())) {
        // The request line comes before the fields: Jetty refuses its target first too.
        return bad(HttpResponseStatus.BAD_REQUEST, "bad request target");
      }
      if (cause instanceof TooLongHttpHeaderException) {
        return bad(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request header too large");
      }
      if (cause instanceof TooLongHttpLineException) {
        return bad(HttpResponseStatus.REQUEST_URI_TOO_LONG, "request line too long");
      }
      return bad(HttpResponseStatus.BAD_REQUEST, "malformed request");
    }
    HttpHeaders h = req.headers();
    HandshakeRules.Problem request =
        HandshakeRules.checkRequest(req.protocolVersion().text(), req.uri(), h.entries());
    if (request != null) {
      return bad(HttpResponseStatus.valueOf(request.status()), request.message());
    }
    if (!WebSocketAttempt.is(h::getAll)) {
      return NOT_WEBSOCKET;
    }
    HandshakeRules.Problem problem =
        HandshakeRules.check(
            req.method().name(),
            req.protocolVersion().text(),
            req.uri(),
            h.entries(),
            config.maxHeaderCount(),
            config.maxInitialLineLength() + config.maxHeaderSize());
    if (problem != null) {
      return bad(HttpResponseStatus.valueOf(problem.status()), problem.message());
    }
    return WEBSOCKET;
  }
}

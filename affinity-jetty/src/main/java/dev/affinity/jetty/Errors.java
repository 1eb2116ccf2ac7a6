package dev.affinity.jetty;

import dev.affinity.internal.http.ErrorAnswer;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Error answers to handshakes that will not be tunnelled: the adapters' one plain-text format
 * ({@link ErrorAnswer}), the same bytes as the Netty adapter's.
 */
final class Errors {
  private Errors() {}

  /**
   * Answers {@code status} with a short, secret-free plain-text message and closes the connection
   * afterwards: an upgrade request that failed leaves no useful connection.
   */
  static void respond(
      Request request, Response response, Callback callback, int status, String message) {
    if (response.isCommitted()) {
      callback.failed(new IllegalStateException("already committed; wanted " + status));
      return;
    }
    write(response, callback, status, message);
  }

  /** Writes the plain-text answer; the response must not be committed. */
  static void write(Response response, Callback callback, int status, String message) {
    byte[] body = ErrorAnswer.body(status, message);
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, ErrorAnswer.CONTENT_TYPE);
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
    response.getHeaders().put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE);
    if (status == HttpStatus.UPGRADE_REQUIRED_426) {
      response.getHeaders().put(HttpHeader.UPGRADE, "websocket");
      response.getHeaders().put(HttpHeader.SEC_WEBSOCKET_VERSION, "13");
    }
    response.write(true, ByteBuffer.wrap(body), callback);
  }
}

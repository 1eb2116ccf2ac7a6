package dev.affinity.jetty;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/** Error answers to handshakes that will not be tunnelled. */
final class Errors {
  private Errors() {}

  /**
   * Answers {@code status} through Jetty's error handler with a short, secret-free message and
   * closes the connection afterwards: an upgrade request that failed leaves no useful connection.
   */
  static void respond(
      Request request, Response response, Callback callback, int status, String message) {
    if (response.isCommitted()) {
      callback.failed(new IllegalStateException("already committed; wanted " + status));
      return;
    }
    response.getHeaders().put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE);
    if (status == HttpStatus.UPGRADE_REQUIRED_426) {
      response.getHeaders().put(HttpHeader.SEC_WEBSOCKET_VERSION, "13");
    }
    Response.writeError(request, response, callback, status, message);
  }
}

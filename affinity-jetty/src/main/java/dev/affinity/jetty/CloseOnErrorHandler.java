package dev.affinity.jetty;

import java.util.Locale;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's own error answers (for requests it could not parse: 400, 414, 431) in the adapters' one
 * plain-text format, with {@code Connection: close}. Jetty already closes the connection after a
 * request it could not parse; saying so lets clients (and the shared scenarios) know not to reuse
 * it. Used by {@link AffinityServer}; subclassable within the package for tests.
 */
class CloseOnErrorHandler extends ErrorHandler {
  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    if (response.isCommitted()) {
      return super.handle(request, response, callback);
    }
    int status = response.getStatus();
    String reason = HttpStatus.getMessage(status);
    Errors.write(
        response, callback, status, reason == null ? "error" : reason.toLowerCase(Locale.ROOT));
    return true;
  }
}

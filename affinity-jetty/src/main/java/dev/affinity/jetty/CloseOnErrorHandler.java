package dev.affinity.jetty;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's error page plus {@code Connection: close}. Jetty already closes the connection after a
 * request it could not parse; saying so lets clients (and the shared scenarios) know not to reuse
 * it. Used by {@link AffinityServer}; subclassable within the package for tests.
 */
class CloseOnErrorHandler extends ErrorHandler {
  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    if (!response.isCommitted()) {
      response.getHeaders().put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE);
    }
    return super.handle(request, response, callback);
  }
}

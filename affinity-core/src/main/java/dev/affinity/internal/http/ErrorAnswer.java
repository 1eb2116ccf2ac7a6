package dev.affinity.internal.http;

import dev.affinity.Outcome;
import dev.affinity.RoutingDecision;
import java.nio.charset.StandardCharsets;

/**
 * The one error answer format of both adapters: a short plain-text body {@code "<status>
 * <message>\n"} in UTF-8, {@code Content-Type: text/plain; charset=utf-8}, {@code Connection:
 * close}, and the connection closed after it. Messages never carry a secret, a token, a cookie
 * value or why a credential was refused. Not API.
 */
public final class ErrorAnswer {
  /** The content type of every error body. */
  public static final String CONTENT_TYPE = "text/plain; charset=utf-8";

  /** The default request-head timeout of both adapters: 10 seconds, as HAProxy answers 408. */
  public static final java.time.Duration DEFAULT_REQUEST_HEAD_TIMEOUT =
      java.time.Duration.ofSeconds(10);

  /** The message of a 408 for a request head that did not arrive in time. */
  public static final String REQUEST_HEAD_TIMEOUT = "request head not received in time";

  /** 502: every candidate refused the connection or closed before answering. */
  public static final String NO_BACKEND_REACHABLE = "no backend reachable";

  /** 502: the backend's answer was not an HTTP response head this proxy can relay. */
  public static final String BAD_RESPONSE = "bad response from backend";

  /**
   * 504: the backend took the request and sent no response head within the handshake timeout (the
   * HTTP path's response timeout for a plain HTTP request).
   */
  public static final String BACKEND_TIMEOUT = "backend did not answer in time";

  /**
   * 503 to a handshake that arrives while the proxy shuts down, and the reason of the 1001 close
   * frames its tunnels get.
   */
  public static final String PROXY_STOPPING = "proxy is stopping";

  /** The close code of the frames tunnels get when the proxy shuts down: 1001, going away. */
  public static final int SHUTDOWN_CLOSE_CODE = 1001;

  private ErrorAnswer() {}

  /**
   * The message of a 413 for a plain HTTP request whose body is longer than the HTTP path's limit
   * ({@code httpMaxRequestBodyBytes}): {@code "request body too large (limit <n> bytes)"}.
   */
  public static String requestBodyTooLarge(long limitBytes) {
    return "request body too large (limit " + limitBytes + " bytes)";
  }

  /** The body of an error answer. */
  public static byte[] body(int status, String message) {
    return (status + " " + message + "\n").getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The message for a decision without a backend: 401 says only {@code unauthorized} (the reason a
   * token was refused is never disclosed), 503 says {@code no backend available}.
   */
  public static String forDecision(RoutingDecision decision) {
    return decision.outcome() == Outcome.REJECTED ? "unauthorized" : "no backend available";
  }
}

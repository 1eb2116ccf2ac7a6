package dev.affinity.internal.http;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The upgrade-request rules both adapters apply to a WebSocket attempt (RFC 6455 section 4.2.1),
 * after their HTTP parser and before routing: one list, one order, one status and message for each
 * rejection, so the same request head gets the same answer on either adapter. Messages name what is
 * wrong and never echo a header value. Not API.
 *
 * <p>In order: {@link #checkRequest} (the request target: origin-form or absolute-form, at most
 * {@link #MAX_TARGET_LENGTH} characters, percent-encodings of UTF-8, no empty, {@code .} or {@code
 * ..} segment, else 414 or 400; one {@code Host} matching an absolute-form authority, else 400),
 * the header-field count (431), the head size (431), control characters in a field value (400),
 * HTTP/1.1 (400), GET (400), an {@code Upgrade} token {@code websocket} (400), a {@code Connection}
 * token {@code upgrade} (400), exactly one {@code Host} (400), one 16-byte base64 {@code
 * Sec-WebSocket-Key} (400), a {@code Sec-WebSocket-Version} (400 when missing, 426 unless exactly
 * one {@code 13}), no body (400).
 */
public final class HandshakeRules {
  /** The default most header fields a handshake may carry on both adapters: 100. */
  public static final int DEFAULT_MAX_HEADER_COUNT = 100;

  /** The longest request target both adapters accept: 4096 characters, then 414. */
  public static final int MAX_TARGET_LENGTH = 4096;

  /** The default most bytes of a backend's non-101 body relayed on both adapters: 64 KiB. */
  public static final int DEFAULT_MAX_ERROR_BODY_BYTES = 64 * 1024;

  /** The message of the 426 a request that is not a WebSocket attempt gets by default. */
  public static final String UPGRADE_REQUIRED = "WebSocket upgrade required";

  private HandshakeRules() {}

  /** Why a handshake is refused: the status to answer and the plain-text message. */
  public static final class Problem {
    private final int status;
    private final String message;

    Problem(int status, String message) {
      this.status = status;
      this.message = message;
    }

    /** The HTTP status to answer. */
    public int status() {
      return status;
    }

    /** The message of the plain-text body ({@link ErrorAnswer#body}). */
    public String message() {
      return message;
    }

    @Override
    public String toString() {
      return status + " " + message;
    }
  }

  /**
   * The rules every request meets, WebSocket attempt or not, because both HTTP parsers apply them
   * before anything else: the request target (414 when longer than {@link #MAX_TARGET_LENGTH}, 400
   * when malformed) and, for HTTP/1.1, exactly one non-empty {@code Host}, equal to the authority
   * of an absolute-form target (400). Null when they hold.
   */
  public static @Nullable Problem checkRequest(
      String version, String target, List<? extends Map.Entry<String, String>> fields) {
    if (target.length() > MAX_TARGET_LENGTH) {
      return new Problem(414, "request target too long (limit " + MAX_TARGET_LENGTH + ")");
    }
    if (RequestTarget.originForm(target) == null) {
      return bad("bad request target");
    }
    if (!"HTTP/1.1".equals(version)) {
      return null;
    }
    List<String> hosts = values(fields, "Host");
    if (hosts.size() != 1 || hosts.get(0).trim().isEmpty()) {
      return bad("exactly one Host header required");
    }
    String authority = RequestTarget.authority(target);
    if (authority != null && !authority.equalsIgnoreCase(hosts.get(0).trim())) {
      // RFC 9112 section 3.2.2; HAProxy refuses the mismatch too (request smuggling).
      return bad("Host does not match the request target");
    }
    return null;
  }

  /**
   * The head rules a plain (non-upgrade) request proxied on the HTTP path meets, the same as the
   * first rules of {@link #check}: {@link #checkRequest}, then the header-field count (431), the
   * head size (431) and control characters in a field value (400). Null when they hold. Parameters
   * as for {@link #check}.
   */
  public static @Nullable Problem checkPlain(
      String method,
      String version,
      String target,
      List<? extends Map.Entry<String, String>> fields,
      int maxHeaderCount,
      int maxHeadBytes) {
    // The target and Host first: both HTTP parsers judge them before anything else.
    Problem request = checkRequest(version, target, fields);
    if (request != null) {
      return request;
    }
    if (fields.size() > maxHeaderCount) {
      return new Problem(
          431, "too many header fields: " + fields.size() + " (limit " + maxHeaderCount + ")");
    }
    long bytes = method.length() + target.length() + version.length() + 4L;
    for (Map.Entry<String, String> f : fields) {
      bytes += f.getKey().length() + f.getValue().length() + 4L;
    }
    if (bytes > maxHeadBytes) {
      return new Problem(431, "request head too large (limit " + maxHeadBytes + " bytes)");
    }
    for (Map.Entry<String, String> f : fields) {
      if (!visible(f.getValue())) {
        return bad("control character in a header value");
      }
    }
    return null;
  }

  /**
   * Checks a WebSocket attempt's request head; null when it may be routed.
   *
   * @param method the request method as received
   * @param version the protocol version as text ({@code HTTP/1.1})
   * @param target the request target as received
   * @param fields every header field, name and value, in the order received
   * @param maxHeaderCount the most header fields accepted
   * @param maxHeadBytes the largest head accepted, counted as request line plus {@code name: value
   *     CRLF} per field
   */
  public static @Nullable Problem check(
      String method,
      String version,
      String target,
      List<? extends Map.Entry<String, String>> fields,
      int maxHeaderCount,
      int maxHeadBytes) {
    Problem plain = checkPlain(method, version, target, fields, maxHeaderCount, maxHeadBytes);
    if (plain != null) {
      return plain;
    }
    if (!"HTTP/1.1".equals(version)) {
      return bad("a WebSocket upgrade must be HTTP/1.1");
    }
    if (!"GET".equals(method)) {
      return bad("a WebSocket upgrade must be a GET");
    }
    if (!WebSocketAttempt.hasToken(values(fields, "Upgrade"), "websocket")) {
      return bad("missing Upgrade: websocket");
    }
    if (!WebSocketAttempt.hasToken(values(fields, "Connection"), "upgrade")) {
      return bad("missing Connection: upgrade");
    }
    if (values(fields, "Host").size() != 1) {
      return bad("exactly one Host header required");
    }
    List<String> keys = values(fields, "Sec-WebSocket-Key");
    if (keys.size() != 1 || !validKey(keys.get(0))) {
      return bad("Sec-WebSocket-Key must be one base64 value of 16 bytes");
    }
    List<String> versions = values(fields, "Sec-WebSocket-Version");
    if (versions.isEmpty()) {
      return bad("missing Sec-WebSocket-Version");
    }
    if (versions.size() != 1 || !"13".equals(versions.get(0).trim())) {
      return new Problem(426, "Sec-WebSocket-Version must be 13");
    }
    if (!values(fields, "Transfer-Encoding").isEmpty()
        || hasBody(values(fields, "Content-Length"))) {
      return bad("a WebSocket handshake has no body");
    }
    return null;
  }

  private static Problem bad(String message) {
    return new Problem(400, message);
  }

  /** The values of the fields named {@code name} (case-insensitive), in order. */
  static List<String> values(List<? extends Map.Entry<String, String>> fields, String name) {
    List<String> out = new ArrayList<>(1);
    for (Map.Entry<String, String> f : fields) {
      if (f.getKey().equalsIgnoreCase(name)) {
        out.add(f.getValue());
      }
    }
    return out;
  }

  private static boolean hasBody(List<String> contentLengths) {
    for (String v : contentLengths) {
      if (!v.trim().equals("0")) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code key} is 24 base64 characters (surrounding blanks aside) encoding 16 bytes. */
  static boolean validKey(String key) {
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

  /** No control character other than horizontal tab. */
  private static boolean visible(String v) {
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        return false;
      }
    }
    return true;
  }
}

package dev.affinity.testkit;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a test client asks for when it opens a WebSocket: where, with which headers, subprotocols
 * and extensions. Immutable; each {@code with}/{@code header} call returns a copy.
 *
 * <pre>{@code
 * Handshake h = Handshake.to(proxy.port(), "/chat?room=7")
 *     .header("X-Forwarded-For", "203.0.113.9")
 *     .subprotocols("echo.v1");
 * }</pre>
 */
public final class Handshake {
  private final int port;
  private final String pathAndQuery;
  private final Map<String, List<String>> headers;
  private final List<String> subprotocols;
  private final List<String> extensions;

  private Handshake(
      int port,
      String pathAndQuery,
      Map<String, List<String>> headers,
      List<String> subprotocols,
      List<String> extensions) {
    this.port = port;
    this.pathAndQuery = pathAndQuery;
    this.headers = headers;
    this.subprotocols = subprotocols;
    this.extensions = extensions;
  }

  /** A handshake to {@code ws://127.0.0.1:<port><pathAndQuery>}. */
  public static Handshake to(int port, String pathAndQuery) {
    requireNonNull(pathAndQuery, "pathAndQuery");
    if (!pathAndQuery.startsWith("/")) {
      throw new IllegalArgumentException(
          "pathAndQuery: " + pathAndQuery + " (expected: starts with /)");
    }
    return new Handshake(port, pathAndQuery, Map.of(), List.of(), List.of());
  }

  /** Returns a copy that also sends header {@code name: value}. */
  public Handshake header(String name, String value) {
    Map<String, List<String>> h = new LinkedHashMap<>(headers);
    List<String> values = new ArrayList<>(h.getOrDefault(name, List.of()));
    values.add(requireNonNull(value, "value"));
    h.put(requireNonNull(name, "name"), List.copyOf(values));
    return new Handshake(port, pathAndQuery, Map.copyOf(h), subprotocols, extensions);
  }

  /** Returns a copy that offers these subprotocols, in order. */
  public Handshake subprotocols(String... offered) {
    return new Handshake(port, pathAndQuery, headers, List.of(offered), extensions);
  }

  /** Returns a copy that offers these extensions (for example {@code permessage-deflate}). */
  public Handshake extensions(String... offered) {
    return new Handshake(port, pathAndQuery, headers, subprotocols, List.of(offered));
  }

  /** The target URI. */
  public URI uri() {
    return URI.create("ws://127.0.0.1:" + port + pathAndQuery);
  }

  /** The target port. */
  public int port() {
    return port;
  }

  /** The path and query. */
  public String pathAndQuery() {
    return pathAndQuery;
  }

  /** Extra headers to send. */
  public Map<String, List<String>> headers() {
    return headers;
  }

  /** Offered subprotocols. */
  public List<String> subprotocols() {
    return subprotocols;
  }

  /** Offered extensions. */
  public List<String> extensions() {
    return extensions;
  }

  @Override
  public String toString() {
    return "Handshake{" + uri() + ", headers=" + headers.keySet() + "}";
  }
}

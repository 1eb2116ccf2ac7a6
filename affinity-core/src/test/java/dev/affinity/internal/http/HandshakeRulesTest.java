package dev.affinity.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HandshakeRulesTest {
  private static List<Map.Entry<String, String>> valid() {
    List<Map.Entry<String, String>> f = new ArrayList<>();
    f.add(Map.entry("Host", "example.com"));
    f.add(Map.entry("Upgrade", "websocket"));
    f.add(Map.entry("Connection", "keep-alive, Upgrade"));
    f.add(Map.entry("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="));
    f.add(Map.entry("Sec-WebSocket-Version", "13"));
    return f;
  }

  private static String check(List<Map.Entry<String, String>> fields) {
    return check("GET", "HTTP/1.1", "/chat", fields);
  }

  private static String check(
      String method, String version, String target, List<Map.Entry<String, String>> fields) {
    HandshakeRules.Problem p = HandshakeRules.check(method, version, target, fields, 100, 8192);
    return p == null ? "ok" : p.toString();
  }

  private static List<Map.Entry<String, String>> with(String name, String value) {
    List<Map.Entry<String, String>> f = valid();
    f.add(Map.entry(name, value));
    return f;
  }

  private static List<Map.Entry<String, String>> without(String name) {
    List<Map.Entry<String, String>> f = valid();
    f.removeIf(e -> e.getKey().equalsIgnoreCase(name));
    return f;
  }

  @Test
  void check_validUpgrade_passes() {
    assertThat(check(valid())).isEqualTo("ok");
    assertThat(check("GET", "HTTP/1.1", "http://example.com/chat?x=1", valid())).isEqualTo("ok");
    assertThat(check(with("Content-Length", "0"))).isEqualTo("ok");
    assertThat(check(with("X-Note", "tab\tinside"))).isEqualTo("ok");
  }

  @Test
  void check_eachRule_hasItsStatusAndMessage() {
    assertThat(check("POST", "HTTP/1.1", "/", valid()))
        .isEqualTo("400 a WebSocket upgrade must be a GET");
    assertThat(check("GET", "HTTP/1.0", "/", valid()))
        .isEqualTo("400 a WebSocket upgrade must be HTTP/1.1");
    assertThat(check(without("Upgrade"))).isEqualTo("400 missing Upgrade: websocket");
    assertThat(check(without("Connection"))).isEqualTo("400 missing Connection: upgrade");
    assertThat(check(without("Host"))).isEqualTo("400 exactly one Host header required");
    assertThat(check(with("Host", "other.example")))
        .isEqualTo("400 exactly one Host header required");
    assertThat(check("GET", "HTTP/1.1", "chat", valid())).isEqualTo("400 bad request target");
    assertThat(check("GET", "HTTP/1.1", "/" + "a".repeat(4096), valid()))
        .isEqualTo("414 request target too long (limit 4096)");
    assertThat(check(with("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")))
        .isEqualTo("400 Sec-WebSocket-Key must be one base64 value of 16 bytes");
    assertThat(check(without("Sec-WebSocket-Version")))
        .isEqualTo("400 missing Sec-WebSocket-Version");
    assertThat(check(with("Sec-WebSocket-Version", "8")))
        .isEqualTo("426 Sec-WebSocket-Version must be 13");
    assertThat(check(with("Transfer-Encoding", "chunked")))
        .isEqualTo("400 a WebSocket handshake has no body");
    assertThat(check(with("Content-Length", "5")))
        .isEqualTo("400 a WebSocket handshake has no body");
    assertThat(check(with("X-Note", "a\u0001b")))
        .isEqualTo("400 control character in a header value");
  }

  @Test
  void check_limits_countAndHeadSize_get431() {
    List<Map.Entry<String, String>> many = valid();
    for (int i = 0; i < 96; i++) {
      many.add(Map.entry("X-" + i, "v"));
    }
    assertThat(check(many)).isEqualTo("431 too many header fields: 101 (limit 100)");
    assertThat(check(with("X-Big", "v".repeat(8192))))
        .isEqualTo("431 request head too large (limit 8192 bytes)");
  }

  @Test
  void check_rulesRunInOneOrder_theFirstBrokenRuleAnswers() {
    // Both a wrong method and a missing Upgrade: the method rule comes first, on every adapter.
    assertThat(check("PUT", "HTTP/1.1", "/", without("Upgrade")))
        .isEqualTo("400 a WebSocket upgrade must be a GET");
  }

  private static String plain(
      String method, String version, String target, List<Map.Entry<String, String>> fields) {
    HandshakeRules.Problem p =
        HandshakeRules.checkPlain(method, version, target, fields, 100, 8192);
    return p == null ? "ok" : p.toString();
  }

  @Test
  void checkPlain_appliesTheHeadRules_butNotTheWebSocketOnes() {
    List<Map.Entry<String, String>> post = new ArrayList<>();
    post.add(Map.entry("Host", "example.com"));
    post.add(Map.entry("Content-Length", "5"));
    post.add(Map.entry("Transfer-Encoding", "chunked"));
    assertThat(plain("POST", "HTTP/1.1", "/socket.io/?EIO=4", post)).isEqualTo("ok");
    assertThat(plain("GET", "HTTP/1.0", "/", List.of())).as("no Host in HTTP/1.0").isEqualTo("ok");
    assertThat(plain("GET", "HTTP/1.1", "/", List.of()))
        .isEqualTo("400 exactly one Host header required");
    assertThat(plain("GET", "HTTP/1.1", "/a/../b", post)).isEqualTo("400 bad request target");
    List<Map.Entry<String, String>> control = new ArrayList<>(post);
    control.add(Map.entry("X-Note", "a\u0001b"));
    assertThat(plain("GET", "HTTP/1.1", "/", control))
        .isEqualTo("400 control character in a header value");
    List<Map.Entry<String, String>> many = new ArrayList<>(post);
    for (int i = 0; i < 98; i++) {
      many.add(Map.entry("X-" + i, "v"));
    }
    assertThat(plain("GET", "HTTP/1.1", "/", many))
        .isEqualTo("431 too many header fields: 101 (limit 100)");
    List<Map.Entry<String, String>> big = new ArrayList<>(post);
    big.add(Map.entry("X-Big", "v".repeat(8192)));
    assertThat(plain("GET", "HTTP/1.1", "/", big))
        .isEqualTo("431 request head too large (limit 8192 bytes)");
  }
}

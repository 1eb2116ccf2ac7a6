package dev.affinity.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.client.Cidr;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ForwardedHeadersTest {
  private static final ForwardedHeaders TRUSTING_10 =
      ForwardedHeaders.trusting(List.of(Cidr.parse("10.0.0.0/8")));

  private static final Map<String, List<String>> SPOOFED =
      Map.of(
          "host", List.of("lb.example"),
          "x-forwarded-for", List.of("6.6.6.6", "7.7.7.7"),
          "x-forwarded-proto", List.of("https"),
          "x-forwarded-host", List.of("bank.example"),
          "x-forwarded-port", List.of("443"),
          "forwarded", List.of("for=6.6.6.6;proto=https"));

  private static Map<String, String> write(
      ForwardedHeaders f,
      Map<String, List<String>> received,
      InetSocketAddress peer,
      InetSocketAddress proxySource,
      boolean secure) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, String> e :
        f.write(
            name -> received.getOrDefault(name.toLowerCase(Locale.ROOT), List.of()),
            peer,
            proxySource,
            secure,
            8080)) {
      out.put(e.getKey(), e.getValue());
    }
    return out;
  }

  @Test
  void untrustedPeer_everyForwardedHeaderIsReplaced() {
    Map<String, String> out =
        write(
            TRUSTING_10,
            SPOOFED,
            new InetSocketAddress("198.51.100.9", 5000),
            new InetSocketAddress("1.2.3.4", 1),
            false);
    assertThat(out)
        .containsExactly(
            Map.entry("X-Forwarded-For", "198.51.100.9"),
            Map.entry("X-Forwarded-Proto", "http"),
            Map.entry("X-Forwarded-Host", "lb.example"),
            Map.entry("X-Forwarded-Port", "8080"),
            Map.entry("Forwarded", "for=198.51.100.9;host=lb.example;proto=http"));
  }

  @Test
  void trustedPeer_keepsAndAppends_proxySourceIsTheClient() {
    Map<String, String> out =
        write(
            TRUSTING_10,
            SPOOFED,
            new InetSocketAddress("10.0.0.1", 5000),
            new InetSocketAddress("203.0.113.5", 1),
            false);
    assertThat(out)
        .containsExactly(
            Map.entry("X-Forwarded-For", "6.6.6.6, 7.7.7.7, 203.0.113.5"),
            Map.entry("X-Forwarded-Proto", "https"),
            Map.entry("X-Forwarded-Host", "bank.example"),
            Map.entry("X-Forwarded-Port", "443"),
            Map.entry(
                "Forwarded",
                "for=6.6.6.6;proto=https, for=203.0.113.5;host=lb.example;proto=http"));
  }

  @Test
  void ipv6_isCompressed_andBracketedAndQuotedInForwarded() {
    Map<String, String> out =
        write(
            ForwardedHeaders.trustingNobody(),
            Map.of("host", List.of("[::1]:8080")),
            new InetSocketAddress("2001:db8:0:0:0:0:0:7", 5000),
            null,
            true);
    assertThat(out.get("X-Forwarded-For")).isEqualTo("2001:db8::7");
    assertThat(out.get("X-Forwarded-Proto")).isEqualTo("https");
    assertThat(out.get("Forwarded"))
        .isEqualTo("for=\"[2001:db8::7]\";host=\"[::1]:8080\";proto=https");
  }

  @Test
  void owns_theFiveHeaders_caseInsensitive() {
    for (String name :
        List.of(
            "X-Forwarded-For",
            "x-forwarded-proto",
            "X-FORWARDED-HOST",
            "X-Forwarded-Port",
            "forwarded")) {
      assertThat(ForwardedHeaders.owns(name)).as(name).isTrue();
    }
    assertThat(ForwardedHeaders.owns("X-Real-IP")).isFalse();
    assertThat(ForwardedHeaders.owns("Host")).isFalse();
  }
}

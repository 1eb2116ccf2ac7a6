package dev.affinity.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.strategy.AffinityStrategy;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** Trusted-proxy resolution under hostile input. */
class ClientAddressProperties {
  private static final ClientAddressResolver RESOLVER =
      ClientAddressResolver.builder().trustedProxies("10.0.0.0/8", "fd00::/8").build();
  private static final ClientAddressResolver FORWARDED =
      ClientAddressResolver.builder()
          .trustedProxies("0.0.0.0/0", "::/0")
          .forwardedHeader(ForwardedHeader.FORWARDED)
          .build();
  private static final ClientAddressResolver XFF_ALL =
      ClientAddressResolver.builder().trustedProxies("0.0.0.0/0", "::/0").build();

  @Provide
  Arbitrary<String> untrustedPeer() {
    // Public IPv4 outside 10/8.
    return Combinators.combine(
            Arbitraries.integers().between(11, 223),
            Arbitraries.integers().between(0, 255),
            Arbitraries.integers().between(0, 255),
            Arbitraries.integers().between(1, 254))
        .as((a, b, c, d) -> a + "." + b + "." + c + "." + d);
  }

  @Provide
  Arbitrary<String> hostileHeader() {
    Arbitrary<String> junk = Arbitraries.strings().all().ofMaxLength(200);
    Arbitrary<String> plausible =
        Arbitraries.of(
                "1.2.3.4",
                "10.0.0.1",
                "[::1]:80",
                "for=\"[2001:db8::1]:4711\"",
                "for=_x",
                "unknown",
                "\"",
                ",,,",
                ";;=",
                "for=",
                "[",
                "]:",
                "::ffff:1.2.3.4",
                "fe80::1%eth0")
            .list()
            .ofMaxSize(8)
            .map(l -> String.join(", ", l));
    return Arbitraries.oneOf(junk, plausible);
  }

  /**
   * A peer outside every trusted range gets the key of its own address, whatever forwarded headers
   * or PROXY address it sends: spoofing can never pick a backend for an untrusted client.
   */
  @Property(tries = 1000)
  void spoofedHeadersFromUntrustedPeer_neverChangeTheKey(
      @ForAll("untrustedPeer") String peer,
      @ForAll("hostileHeader") String xff,
      @ForAll("hostileHeader") String forwarded) {
    RoutingRequest plain = RoutingRequest.builder().remoteAddress(peer, 5000).build();
    RoutingRequest spoofed =
        RoutingRequest.builder()
            .remoteAddress(peer, 5000)
            .header("X-Forwarded-For", xff)
            .header("Forwarded", forwarded)
            .proxyProtocolSourceAddress(new java.net.InetSocketAddress("1.2.3.4", 1))
            .build();
    assertThat(RESOLVER.keyHash(spoofed)).isEqualTo(RESOLVER.keyHash(plain));
    assertThat(RESOLVER.resolve(spoofed)).isEqualTo(RESOLVER.resolve(plain));
  }

  /**
   * Arbitrary header bytes from a fully trusted peer never make {@code select} throw or come back
   * without a backend, and the explanation is always printable.
   */
  @Property(tries = 1000)
  void malformedForwardedValues_neverThrowOutOfSelect(
      @ForAll("hostileHeader") String value, @ForAll @IntRange(min = 1, max = 3) int lines) {
    BackendGroup g =
        BackendGroup.of(Backend.of("a", "10.0.0.1", 80), Backend.of("b", "10.0.0.2", 80));
    for (ClientAddressResolver resolver : new ClientAddressResolver[] {FORWARDED, XFF_ALL}) {
      Router router = Router.builder(g).strategy(AffinityStrategy.sourceIp(resolver)).build();
      var b = RoutingRequest.builder().remoteAddress("10.0.0.9", 5000);
      for (int i = 0; i < lines; i++) {
        b.header("X-Forwarded-For", value).header("Forwarded", value);
      }
      RoutingDecision d = router.select(b.build());
      assertThat(d.hasBackend()).isTrue();
      assertThat(d.strategy()).isEqualTo("source-ip");
      assertThat(d.explanation()).doesNotContainPattern("[\\x00-\\x1f]");
    }
  }
}

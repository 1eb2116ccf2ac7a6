package dev.affinity.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.RoutingRequest;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class ClientAddressResolverTest {
  private static final ClientAddressResolver XFF =
      ClientAddressResolver.builder().trustedProxies("10.0.0.0/8", "fd00::/8").build();
  private static final ClientAddressResolver FORWARDED =
      ClientAddressResolver.builder()
          .trustedProxies("10.0.0.0/8", "fd00::/8")
          .forwardedHeader(ForwardedHeader.FORWARDED)
          .build();

  private static RoutingRequest xff(String peer, String... values) {
    var b = RoutingRequest.builder().remoteAddress(peer, 443);
    for (String v : values) {
      b.header("X-Forwarded-For", v);
    }
    return b.build();
  }

  private static RoutingRequest fwd(String peer, String... values) {
    var b = RoutingRequest.builder().remoteAddress(peer, 443);
    for (String v : values) {
      b.header("Forwarded", v);
    }
    return b.build();
  }

  private static String ip(ClientAddress a) {
    return com.google.common.net.InetAddresses.toAddrString(a.address());
  }

  @Test
  void untrustedPeer_headersIgnored() {
    ClientAddress a = XFF.resolve(xff("198.51.100.5", "203.0.113.9"));
    assertThat(ip(a)).isEqualTo("198.51.100.5");
    assertThat(a.source()).isEqualTo(ClientAddress.Source.PEER);
  }

  @Test
  void direct_ignoresHeadersEvenFromPrivatePeers() {
    assertThat(ip(ClientAddressResolver.direct().resolve(xff("10.0.0.1", "203.0.113.9"))))
        .isEqualTo("10.0.0.1");
  }

  @Test
  void xff_walksRightToLeftToFirstUntrustedHop() {
    // client spoofs 1.2.3.4; real client 203.0.113.9; then two of our proxies.
    ClientAddress a = XFF.resolve(xff("10.0.0.1", "1.2.3.4, 203.0.113.9, 10.0.0.7"));
    assertThat(ip(a)).isEqualTo("203.0.113.9");
    assertThat(a.source()).isEqualTo(ClientAddress.Source.X_FORWARDED_FOR);
  }

  @Test
  void xff_multipleHeaderLinesAreOneList() {
    assertThat(ip(XFF.resolve(xff("10.0.0.1", "1.2.3.4", "203.0.113.9, 10.0.0.7"))))
        .isEqualTo("203.0.113.9");
  }

  @Test
  void xff_allTrusted_leftmostWins() {
    assertThat(ip(XFF.resolve(xff("10.0.0.1", "10.9.9.9, 10.0.0.7")))).isEqualTo("10.9.9.9");
  }

  @Test
  void xff_garbageStopsAtLastTrustedHop() {
    assertThat(ip(XFF.resolve(xff("10.0.0.1", "203.0.113.9, not-an-ip")))).isEqualTo("10.0.0.1");
    assertThat(ip(XFF.resolve(xff("10.0.0.1", "203.0.113.9, ")))).isEqualTo("10.0.0.1");
  }

  @Test
  void xff_portsAndBracketedIpv6Accepted() {
    assertThat(ip(XFF.resolve(xff("10.0.0.1", "203.0.113.9:5555")))).isEqualTo("203.0.113.9");
    assertThat(ip(XFF.resolve(xff("10.0.0.1", "[2001:db8::1]:5555")))).isEqualTo("2001:db8::1");
    assertThat(ip(XFF.resolve(xff("10.0.0.1", "2001:db8::1")))).isEqualTo("2001:db8::1");
  }

  @Test
  void xff_neverResolvesHostNames() {
    assertThat(ip(XFF.resolve(xff("10.0.0.1", "localhost")))).isEqualTo("10.0.0.1");
  }

  @Test
  void forwarded_quotedIpv6WithPortAndOtherParameters() {
    ClientAddress a =
        FORWARDED.resolve(
            fwd(
                "10.0.0.1",
                "for=192.0.2.60;proto=http;by=203.0.113.43, for=\"[2001:db8:cafe::17]:4711\""));
    assertThat(ip(a)).isEqualTo("2001:db8:cafe::17");
    assertThat(a.source()).isEqualTo(ClientAddress.Source.FORWARDED);
  }

  @Test
  void forwarded_caseInsensitiveParameterNameAndSpaces() {
    assertThat(ip(FORWARDED.resolve(fwd("10.0.0.1", "For=192.0.2.43 ; proto=https"))))
        .isEqualTo("192.0.2.43");
  }

  @Test
  void forwarded_obfuscatedIdentifierBecomesTheKey() {
    ClientAddress a = FORWARDED.resolve(fwd("10.0.0.1", "for=_hidden7, for=10.0.0.3"));
    assertThat(a.obfuscatedIdentifier()).isEqualTo("_hidden7");
    assertThat(ip(a)).isEqualTo("10.0.0.3");
    assertThat(FORWARDED.resolve(fwd("10.0.0.1", "for=unknown")).obfuscatedIdentifier())
        .isEqualTo("unknown");
  }

  @Test
  void forwarded_elementWithoutForStopsTheWalk() {
    assertThat(ip(FORWARDED.resolve(fwd("10.0.0.1", "for=203.0.113.9, proto=https"))))
        .isEqualTo("10.0.0.1");
  }

  @Test
  void forwarded_unterminatedQuoteStopsTheWalk() {
    assertThat(ip(FORWARDED.resolve(fwd("10.0.0.1", "for=\"[2001:db8::1]")))).isEqualTo("10.0.0.1");
  }

  @Test
  void onlyTheConfiguredHeaderIsRead() {
    // The trusted proxies write X-Forwarded-For; a client-supplied Forwarded must not count.
    RoutingRequest r =
        RoutingRequest.builder()
            .remoteAddress("10.0.0.1", 443)
            .header("Forwarded", "for=1.2.3.4")
            .header("X-Forwarded-For", "203.0.113.9")
            .build();
    assertThat(ip(XFF.resolve(r))).isEqualTo("203.0.113.9");
    assertThat(ip(FORWARDED.resolve(r))).isEqualTo("1.2.3.4");
  }

  @Test
  void proxyProtocol_honouredOnlyFromTrustedPeer() {
    InetSocketAddress source = new InetSocketAddress("203.0.113.50", 1234);
    RoutingRequest fromLb =
        RoutingRequest.builder()
            .remoteAddress("10.0.0.1", 443)
            .proxyProtocolSourceAddress(source)
            .build();
    RoutingRequest fromStranger =
        RoutingRequest.builder()
            .remoteAddress("198.51.100.1", 443)
            .proxyProtocolSourceAddress(source)
            .build();
    assertThat(ip(XFF.resolve(fromLb))).isEqualTo("203.0.113.50");
    assertThat(XFF.resolve(fromLb).source()).isEqualTo(ClientAddress.Source.PROXY_PROTOCOL);
    assertThat(ip(XFF.resolve(fromStranger))).isEqualTo("198.51.100.1");
    ClientAddressResolver off =
        ClientAddressResolver.builder().trustedProxies("10.0.0.0/8").proxyProtocol(false).build();
    assertThat(ip(off.resolve(fromLb))).isEqualTo("10.0.0.1");
  }

  @Test
  void ipv4MappedIpv6_isNormalised() throws Exception {
    InetAddress mapped =
        InetAddress.getByAddress(
            new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 0, 0, 1});
    RoutingRequest r =
        RoutingRequest.builder()
            .remoteAddress(new InetSocketAddress(mapped, 443))
            .header("X-Forwarded-For", "::ffff:203.0.113.9")
            .build();
    ClientAddress a = XFF.resolve(r);
    assertThat(ip(a)).isEqualTo("203.0.113.9");
    assertThat(XFF.keyHash(r)).isEqualTo(XFF.keyHash(xff("10.0.0.1", "203.0.113.9")));
  }

  @Test
  void prefixGrouping_ipv6Slash64SharesAKey() {
    ClientAddressResolver grouped = ClientAddressResolver.builder().ipv6PrefixLength(64).build();
    RoutingRequest a = RoutingRequest.builder().remoteAddress("2001:db8:1:2::aaaa", 1).build();
    RoutingRequest b = RoutingRequest.builder().remoteAddress("2001:db8:1:2:ffff::1", 1).build();
    RoutingRequest c = RoutingRequest.builder().remoteAddress("2001:db8:1:3::aaaa", 1).build();
    assertThat(grouped.keyHash(a)).isEqualTo(grouped.keyHash(b)).isNotEqualTo(grouped.keyHash(c));
    assertThat(ip(grouped.resolve(a))).isEqualTo("2001:db8:1:2::");
    assertThat(ClientAddressResolver.direct().keyHash(a))
        .isNotEqualTo(ClientAddressResolver.direct().keyHash(b));
  }

  @Test
  void keyHash_ipv6Peer_equalsHashOfTheResolvedAddress() throws Exception {
    byte[] mapped = new byte[16];
    mapped[10] = (byte) 0xff;
    mapped[11] = (byte) 0xff;
    mapped[12] = (byte) 203;
    mapped[15] = 9;
    InetAddress[] peers = {
      InetAddress.getByName("2001:db8:1:2::aaaa"),
      java.net.Inet6Address.getByAddress(null, InetAddress.getByName("fe80::1").getAddress(), 3),
      java.net.Inet6Address.getByAddress(null, mapped, -1), // stays an Inet6Address
      InetAddress.getByName("fd00::7"), // a trusted proxy for XFF
    };
    ClientAddressResolver[] resolvers = {
      ClientAddressResolver.direct(),
      ClientAddressResolver.builder().ipv6PrefixLength(64).build(),
      ClientAddressResolver.builder().ipv6PrefixLength(48).ipv4PrefixLength(24).build(),
      XFF,
    };
    for (ClientAddressResolver resolver : resolvers) {
      for (InetAddress peer : peers) {
        RoutingRequest r =
            RoutingRequest.builder()
                .remoteAddress(new InetSocketAddress(peer, 1))
                .header("X-Forwarded-For", "2001:db8::42")
                .build();
        InetAddress resolved = resolver.resolve(r).address();
        assertThat(resolver.keyHash(r))
            .as("%s via %s", peer, resolver)
            .isEqualTo(dev.affinity.hash.RendezvousHash.keyHash(resolved.getAddress()));
      }
    }
  }

  /**
   * An IPv4 peer's key hash, with and without trusted proxies and prefix grouping, is the hash of
   * the resolved address's bytes: the allocation-free path agrees with {@code resolve}.
   */
  @Test
  void keyHash_ipv4Peer_equalsHashOfTheResolvedAddress() throws Exception {
    InetAddress[] peers = {
      InetAddress.getByName("203.0.113.9"),
      InetAddress.getByName("0.0.0.0"),
      InetAddress.getByName("255.255.255.255"),
      InetAddress.getByName("10.0.0.1"), // a trusted proxy for XFF
    };
    ClientAddressResolver[] resolvers = {
      ClientAddressResolver.direct(),
      ClientAddressResolver.builder().ipv4PrefixLength(24).build(),
      XFF,
    };
    for (ClientAddressResolver resolver : resolvers) {
      for (InetAddress peer : peers) {
        RoutingRequest r =
            RoutingRequest.builder()
                .remoteAddress(new InetSocketAddress(peer, 1))
                .header("X-Forwarded-For", "198.51.100.7")
                .build();
        InetAddress resolved = resolver.resolve(r).address();
        assertThat(resolver.keyHash(r))
            .as("%s via %s", peer, resolver)
            .isEqualTo(dev.affinity.hash.RendezvousHash.keyHash(resolved.getAddress()));
      }
    }
  }

  @Test
  void prefixGrouping_ipv4() {
    ClientAddressResolver grouped = ClientAddressResolver.builder().ipv4PrefixLength(24).build();
    assertThat(grouped.keyHash(RoutingRequest.builder().remoteAddress("198.51.100.1", 1).build()))
        .isEqualTo(
            grouped.keyHash(RoutingRequest.builder().remoteAddress("198.51.100.254", 1).build()));
  }

  @Test
  void cidr_parsingAndMatching() throws Exception {
    assertThat(Cidr.parse("10.0.0.0/8").contains(InetAddress.getByName("10.255.0.1"))).isTrue();
    assertThat(Cidr.parse("10.0.0.0/8").contains(InetAddress.getByName("11.0.0.1"))).isFalse();
    assertThat(Cidr.parse("10.1.2.3").contains(InetAddress.getByName("10.1.2.3"))).isTrue();
    assertThat(Cidr.parse("10.1.2.3").contains(InetAddress.getByName("10.1.2.4"))).isFalse();
    assertThat(Cidr.parse("0.0.0.0/0").contains(InetAddress.getByName("8.8.8.8"))).isTrue();
    assertThat(Cidr.parse("fd00::/8").contains(InetAddress.getByName("fd12::1"))).isTrue();
    assertThat(Cidr.parse("fd00::/8").contains(InetAddress.getByName("10.0.0.1"))).isFalse();
    assertThat(Cidr.parse("::ffff:10.0.0.0/104").contains(InetAddress.getByName("10.3.3.3")))
        .isTrue();
    assertThat(Cidr.parse("10.1.2.3/16").notation()).isEqualTo("10.1.0.0/16");
    assertThat(Cidr.parse("10.1.2.3/16")).hasToString("Cidr.parse(\"10.1.0.0/16\")");
  }

  @Test
  void cidr_badInputNamesTheValue() {
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33"))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("cidr: '10.0.0.0/33' (expected: a prefix length 0..32)");
    assertThatThrownBy(() -> Cidr.parse("example.com/8"))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("cidr: 'example.com/8' (expected: an IP literal with an optional /prefix)");
    assertThatThrownBy(() -> ClientAddressResolver.builder().ipv6PrefixLength(0))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("ipv6PrefixLength: 0 (expected: 1..128)");
  }

  @Test
  void maxHops_bindsTheWalk() {
    ClientAddressResolver r =
        ClientAddressResolver.builder().trustedProxies("10.0.0.0/8").maxHops(2).build();
    assertThat(ip(r.resolve(xff("10.0.0.1", "203.0.113.9, 10.0.0.3, 10.0.0.2"))))
        .isEqualTo("10.0.0.3");
  }

  @Test
  void xff_longClientPrefix_cannotPushTheTrustedEntryOut() {
    String prefix = String.join(", ", java.util.Collections.nCopies(33, "6.6.6.6"));
    assertThat(ip(XFF.resolve(xff("10.0.0.1", prefix + ", 198.51.100.9"))))
        .isEqualTo("198.51.100.9");
    String longer = String.join(", ", java.util.Collections.nCopies(500, "6.6.6.6"));
    assertThat(ip(XFF.resolve(xff("10.0.0.1", longer + ", 198.51.100.9, 10.0.0.7"))))
        .isEqualTo("198.51.100.9");
  }

  @Test
  void xff_proxyEntryOnItsOwnLine_afterLongClientLines() {
    String prefix = String.join(", ", java.util.Collections.nCopies(40, "6.6.6.6"));
    assertThat(ip(XFF.resolve(xff("10.0.0.1", prefix, prefix, "198.51.100.9"))))
        .isEqualTo("198.51.100.9");
  }

  @Test
  void forwarded_longClientPrefix_cannotPushTheTrustedElementOut() {
    String prefix = String.join(", ", java.util.Collections.nCopies(33, "for=6.6.6.6"));
    assertThat(ip(FORWARDED.resolve(fwd("10.0.0.1", prefix + ", for=198.51.100.9"))))
        .isEqualTo("198.51.100.9");
    assertThat(ip(FORWARDED.resolve(fwd("10.0.0.1", prefix, "for=198.51.100.9;proto=https"))))
        .isEqualTo("198.51.100.9");
  }

  @Test
  void forwarded_unterminatedClientQuote_cannotSwallowTheTrustedElement() {
    assertThat(ip(FORWARDED.resolve(fwd("10.0.0.1", "for=\"6.6.6.6, for=198.51.100.9"))))
        .isEqualTo("198.51.100.9");
    assertThat(
            ip(
                FORWARDED.resolve(
                    fwd("10.0.0.1", "for=\"6.6.6.6, for=\"[2001:db8::9]:80\", for=10.0.0.3"))))
        .isEqualTo("2001:db8::9");
  }

  @Test
  void forwarded_malformedElementLeftOfATrustedHop_stopsAtThatHop() {
    assertThat(ip(FORWARDED.resolve(fwd("10.0.0.1", "for=\"6.6.6.6, for=10.0.0.3"))))
        .isEqualTo("10.0.0.3");
    assertThat(ip(FORWARDED.resolve(fwd("10.0.0.1", "for=6.6.6.6 junk, for=10.0.0.3"))))
        .isEqualTo("10.0.0.3");
  }

  @Test
  void forwarded_quotedCommaAndEscapedQuoteInATrustedElement() {
    assertThat(
            ip(FORWARDED.resolve(fwd("10.0.0.1", "for=6.6.6.6, by=\"a,\\\"b\";for=198.51.100.9"))))
        .isEqualTo("198.51.100.9");
  }
}

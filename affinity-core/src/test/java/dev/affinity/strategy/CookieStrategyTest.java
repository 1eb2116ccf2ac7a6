package dev.affinity.strategy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.Outcome;
import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.SetCookie;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.ConnectionLease;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CookieStrategyTest {
  static final byte[] SECRET_1 = secret(1);
  static final byte[] SECRET_2 = secret(2);
  static final CookieKey K1 = CookieKey.of(1, SECRET_1);
  static final CookieKey K2 = CookieKey.of(2, SECRET_2);

  private final TestClock clock = new TestClock();
  private BackendGroup group;

  static byte[] secret(int seed) {
    byte[] b = new byte[32];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (seed * 31 + i * 7);
    }
    return b;
  }

  @BeforeEach
  void setUp() {
    group = BackendGroup.create(clock);
    group.add(Backend.of("ws-1", "10.0.0.1", 8080));
    group.add(Backend.of("ws-2", "10.0.0.2", 8080));
    group.add(Backend.of("ws-3", "10.0.0.3", 8080));
  }

  private CookieAffinity.Builder config(CookieKeys keys) {
    return CookieAffinity.builder(keys);
  }

  private Router router(CookieAffinity config) {
    return Router.builder(group)
        .strategy(AffinityStrategy.cookie(config))
        .fallback(AffinityStrategy.roundRobin())
        .build();
  }

  private Router router() {
    return router(config(CookieKeys.of(K1)).build());
  }

  private static RoutingRequest withCookie(String value) {
    return RoutingRequest.builder().cookie(CookieAffinity.DEFAULT_NAME, value).build();
  }

  private static RoutingRequest fresh() {
    return RoutingRequest.builder().build();
  }

  /** A first decision and its cookie value. */
  private static RoutingDecision first(Router router) {
    RoutingDecision d = router.select(fresh());
    assertThat(d.cookie()).as("cookie on first assignment").isNotNull();
    return d;
  }

  private static String mutateRaw(String value, UnaryOperator<byte[]> change) {
    byte[] raw = Base64.getUrlDecoder().decode(value);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(change.apply(raw));
  }

  @Test
  void firstAssignment_issuesCookieWithSafeDefaults_andReturningClientGoesBack() {
    Router router = router();
    RoutingDecision d = first(router);
    assertThat(d.outcome()).isEqualTo(Outcome.FIRST_ASSIGNMENT);
    SetCookie c = d.cookie();
    assertThat(c.name()).isEqualTo("AFFINITY");
    assertThat(c.path()).isEqualTo("/");
    assertThat(c.httpOnly()).isTrue();
    assertThat(c.sameSite()).isEqualTo(SetCookie.SameSite.LAX);
    assertThat(c.secure()).isFalse();
    assertThat(c.domain()).isNull();
    assertThat(c.maxAge()).isNull();
    assertThat(d.explanation())
        .contains("cookie abstained: no affinity cookie", "sets cookie AFFINITY");

    for (int i = 0; i < 5; i++) {
      RoutingDecision back = router.select(withCookie(c.value()));
      assertThat(back.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
      assertThat(back.strategy()).isEqualTo("cookie");
      assertThat(back.backend()).isEqualTo(d.backend());
      assertThat(back.cookie()).as("no new cookie for a fresh valid one").isNull();
      assertThat(back.explanation())
          .isEqualTo("cookie chose " + d.backend().id() + " (AFFINITY_HIT): valid affinity cookie");
    }
  }

  @Test
  void cookieValue_isOpaque_revealingNeitherAddressNorId() {
    Router router = router();
    for (int i = 0; i < 3; i++) {
      RoutingDecision d = first(router);
      String value = d.cookie().value();
      assertThat(value).hasSize(68).matches("[A-Za-z0-9_-]+");
      String decoded =
          new String(Base64.getUrlDecoder().decode(value), StandardCharsets.ISO_8859_1);
      assertThat(decoded).doesNotContain(d.backend().id(), d.backend().host(), "10.0.0", "8080");
      byte[] raw = Base64.getUrlDecoder().decode(value);
      assertThat(raw[0]).as("version").isEqualTo((byte) 1);
      assertThat(raw[1]).as("key id").isEqualTo((byte) 1);
    }
  }

  @Test
  void tampering_withAnyByte_isNeverHonoured_andSaysWhy() {
    Router router = router();
    RoutingDecision d = first(router);
    String value = d.cookie().value();
    for (int pos = 0; pos < 51; pos++) {
      for (int bit = 0; bit < 8; bit++) {
        int p = pos;
        int mask = 1 << bit;
        String forged =
            mutateRaw(
                value,
                raw -> {
                  raw[p] ^= (byte) mask;
                  return raw;
                });
        RoutingDecision f = router.select(withCookie(forged));
        assertThat(f.strategy()).as("byte %d bit %d", pos, bit).isNotEqualTo("cookie");
        assertThat(f.outcome()).isEqualTo(Outcome.FIRST_ASSIGNMENT);
        assertThat(f.cookie()).as("a replacement cookie").isNotNull();
        String expected =
            pos == 0 ? "unsupported format version" : pos == 1 ? "unknown key id" : "bad signature";
        assertThat(f.explanation())
            .contains("cookie abstained: invalid affinity cookie (" + expected + ")")
            .doesNotContain(forged)
            .doesNotContain(value);
      }
    }
  }

  @Test
  void truncatedOrExtendedOrForeignText_isMalformed() {
    Router router = router();
    String value = first(router).cookie().value();
    List<String> bad = new ArrayList<>();
    for (int n = 0; n < value.length(); n++) {
      bad.add(value.substring(0, n));
    }
    bad.add(value + "A");
    bad.add(value + "==");
    bad.add(value.replace(value.charAt(10), '+'));
    bad.add(value.substring(0, 67) + "\u00e9");
    bad.add("x".repeat(10_000));
    for (String b : bad) {
      if (b.isEmpty()) {
        assertThat(router.select(withCookie(b)).explanation()).contains("no affinity cookie");
        continue;
      }
      RoutingDecision f = router.select(withCookie(b));
      assertThat(f.strategy()).isNotEqualTo("cookie");
      assertThat(f.explanation()).contains("invalid affinity cookie (malformed)");
    }
  }

  @Test
  void cookieSignedWithUnlistedKey_isUnknownKey_andSameIdOtherSecret_isBadSignature() {
    String byK2 = first(router(config(CookieKeys.of(K2)).build())).cookie().value();
    assertThat(router().select(withCookie(byK2)).explanation()).contains("(unknown key id)");

    CookieKey impostor = CookieKey.of(1, SECRET_2);
    String byImpostor = first(router(config(CookieKeys.of(impostor)).build())).cookie().value();
    assertThat(router().select(withCookie(byImpostor)).explanation()).contains("(bad signature)");
  }

  @Test
  void rotation_oldCookiesStillRoute_newCookiesUseTheNewKey_droppedKeyInvalidates() {
    RoutingDecision old = first(router());
    String oldValue = old.cookie().value();

    Router rotated = router(config(CookieKeys.of(K2, K1)).build());
    RoutingDecision back = rotated.select(withCookie(oldValue));
    assertThat(back.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(back.backend()).isEqualTo(old.backend());
    assertThat(Base64.getUrlDecoder().decode(first(rotated).cookie().value())[1])
        .isEqualTo((byte) 2);

    Router dropped = router(config(CookieKeys.of(K2)).build());
    RoutingDecision after = dropped.select(withCookie(oldValue));
    assertThat(after.strategy()).isNotEqualTo("cookie");
    assertThat(after.explanation()).contains("(unknown key id)");
    assertThat(Base64.getUrlDecoder().decode(after.cookie().value())[1]).isEqualTo((byte) 2);
  }

  @Test
  void maxAge_isEnforcedByTheRouter_andCookiesPastHalfAreRefreshed() {
    Router router = router(config(CookieKeys.of(K1)).maxAge(Duration.ofHours(2)).build());
    RoutingDecision d = first(router);
    String value = d.cookie().value();

    clock.advance(Duration.ofMinutes(59));
    assertThat(router.select(withCookie(value)).cookie()).isNull();

    clock.advance(Duration.ofMinutes(2)); // 61 minutes: past half the max age
    RoutingDecision refreshed = router.select(withCookie(value));
    assertThat(refreshed.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(refreshed.backend()).isEqualTo(d.backend());
    assertThat(refreshed.cookie()).isNotNull();
    assertThat(refreshed.cookie().value()).isNotEqualTo(value);

    clock.advance(Duration.ofMinutes(60)); // 121 minutes: the old cookie is expired
    RoutingDecision expired = router.select(withCookie(value));
    assertThat(expired.strategy()).isNotEqualTo("cookie");
    assertThat(expired.outcome()).isEqualTo(Outcome.FIRST_ASSIGNMENT);
    assertThat(expired.explanation()).contains("(older than its max age)");
    assertThat(expired.cookie()).isNotNull();

    // The refreshed one is 60 minutes old and still good.
    assertThat(router.select(withCookie(refreshed.cookie().value())).outcome())
        .isEqualTo(Outcome.AFFINITY_HIT);
  }

  /**
   * The cache of verified values changes no answer: with it on (default) and off, a cookie is good
   * through its last second of max age and expired one second later, and a value one character away
   * from a cached good one is refused.
   */
  @ParameterizedTest
  @ValueSource(ints = {0, CookieAffinity.DEFAULT_CACHE_SIZE})
  void verifiedCache_changesNoAnswer_atTheMaxAgeBoundaryOrForTamperedValues(int cacheSize) {
    Router router =
        router(config(CookieKeys.of(K1)).maxAge(Duration.ofHours(2)).cacheSize(cacheSize).build());
    RoutingDecision d = first(router);
    String value = d.cookie().value();
    assertThat(router.select(withCookie(value)).outcome()).isEqualTo(Outcome.AFFINITY_HIT);

    char last = value.charAt(value.length() - 1);
    String tampered = value.substring(0, value.length() - 1) + (last == 'A' ? 'B' : 'A');
    RoutingDecision forged = router.select(withCookie(tampered));
    assertThat(forged.outcome()).isNotEqualTo(Outcome.AFFINITY_HIT);
    assertThat(forged.strategy()).isNotEqualTo("cookie");

    clock.advance(Duration.ofHours(2)); // exactly the max age: still honoured
    RoutingDecision atMaxAge = router.select(withCookie(value));
    assertThat(atMaxAge.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(atMaxAge.backend()).isEqualTo(d.backend());
    clock.advance(Duration.ofSeconds(1)); // one second past it: expired, cached or not
    RoutingDecision expired = router.select(withCookie(value));
    assertThat(expired.strategy()).isNotEqualTo("cookie");
    assertThat(expired.explanation()).contains("(older than its max age)");
  }

  /** Another proxy instance: the same backends and key, its own group on its own clock. */
  private static Router instanceOn(TestClock clock) {
    BackendGroup other = BackendGroup.create(clock);
    other.add(Backend.of("ws-1", "10.0.0.1", 8080));
    other.add(Backend.of("ws-2", "10.0.0.2", 8080));
    other.add(Backend.of("ws-3", "10.0.0.3", 8080));
    return Router.builder(other)
        .strategy(AffinityStrategy.cookie(CookieAffinity.builder(CookieKeys.of(K1)).build()))
        .fallback(AffinityStrategy.roundRobin())
        .build();
  }

  @Test
  void cookieFromTheFuture_isInvalid_beyondTheAllowedSkew() {
    TestClock ahead = new TestClock(clock.instant().plusSeconds(3600));
    String value = first(instanceOn(ahead)).cookie().value();
    assertThat(router().select(withCookie(value)).explanation()).contains("(issued in the future)");

    TestClock slightly = new TestClock(clock.instant().plusSeconds(30));
    String skewed = first(instanceOn(slightly)).cookie().value();
    assertThat(router().select(withCookie(skewed)).outcome()).isEqualTo(Outcome.AFFINITY_HIT);
  }

  @Test
  @SuppressWarnings("deprecation") // the deprecated clock setter is what is tested
  void build_cookieClockOtherThanTheGroups_isRejectedNamingBoth() {
    TestClock other = new TestClock(clock.instant().plusSeconds(5));
    CookieAffinity own = CookieAffinity.builder(CookieKeys.of(K1)).clock(other).build();
    assertThatThrownBy(() -> router(own))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessageContaining("CookieAffinity.clock: " + other)
        .hasMessageContaining("the group's clock " + clock);
    // The group's own clock, given again, is accepted (deprecated but harmless).
    CookieAffinity same = CookieAffinity.builder(CookieKeys.of(K1)).clock(clock).build();
    assertThat(first(router(same)).outcome()).isEqualTo(Outcome.FIRST_ASSIGNMENT);
  }

  @Test
  void replayAgainstRemovedBackend_failsOver_withNewCookie_andReAddRestoresOldCookies() {
    Router router = router();
    RoutingDecision d = first(router);
    String id = d.backend().id();
    group.remove(id);
    RoutingDecision replay = router.select(withCookie(d.cookie().value()));
    assertThat(replay.outcome()).isEqualTo(Outcome.FAILOVER);
    assertThat(replay.backend().id()).isNotEqualTo(id);
    assertThat(replay.explanation())
        .startsWith("cookie abstained: affinity cookie names a backend that is no longer a member");
    assertThat(replay.cookie()).isNotNull();
    assertThat(router.select(withCookie(replay.cookie().value())).backend())
        .isEqualTo(replay.backend());

    group.add(d.backend());
    assertThat(router.select(withCookie(d.cookie().value())).backend()).isEqualTo(d.backend());
  }

  @Test
  void downBackend_failsOver_butStrictModeAnswersNoBackend() {
    RoutingDecision d = first(router());
    String id = d.backend().id();
    group.markDown(id);

    RoutingDecision relaxed = router().select(withCookie(d.cookie().value()));
    assertThat(relaxed.outcome()).isEqualTo(Outcome.FAILOVER);
    assertThat(relaxed.explanation())
        .startsWith("cookie abstained: affinity cookie names " + id + ", which is DOWN");
    assertThat(relaxed.cookie()).isNotNull();

    Router strict = router(config(CookieKeys.of(K1)).strict(true).build());
    RoutingDecision s = strict.select(withCookie(d.cookie().value()));
    assertThat(s.outcome()).isEqualTo(Outcome.NO_BACKEND);
    assertThat(s.httpStatus()).isEqualTo(503);
    assertThat(s.cookie()).isNull();
    assertThat(s.reason())
        .isEqualTo("affinity cookie names " + id + ", which is DOWN (strict mode)");

    group.markUp(id);
    assertThat(strict.select(withCookie(d.cookie().value())).outcome())
        .isEqualTo(Outcome.AFFINITY_HIT);
  }

  @Test
  void draining_honoursReturningClientsUntilTheDeadline_andTakesNoNewOnes() {
    Router router = router();
    RoutingDecision d = first(router);
    String id = d.backend().id();
    group.drain(id, Duration.ofMinutes(5));

    RoutingDecision back = router.select(withCookie(d.cookie().value()));
    assertThat(back.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(back.backend().id()).isEqualTo(id);
    assertThat(back.reason()).contains("DRAINING");
    for (int i = 0; i < 20; i++) {
      assertThat(router.select(fresh()).backend().id()).isNotEqualTo(id);
    }

    clock.advance(Duration.ofMinutes(5));
    RoutingDecision late = router.select(withCookie(d.cookie().value()));
    assertThat(late.outcome()).isEqualTo(Outcome.FAILOVER);
    assertThat(late.backend().id()).isNotEqualTo(id);
    assertThat(late.explanation()).contains(id + ", which is DRAINING past its deadline");
  }

  @Test
  void drainingWithoutDeadline_keepsReturningClients() {
    Router router = router();
    RoutingDecision d = first(router);
    group.drain(d.backend().id());
    clock.advance(Duration.ofHours(6));
    assertThat(router.select(withCookie(d.cookie().value())).backend()).isEqualTo(d.backend());
  }

  @Test
  void backendAtItsCap_failsOver() {
    group = BackendGroup.create(clock);
    group.add(Backend.of("ws-1", "10.0.0.1", 8080).withMaxConnections(1));
    group.add(Backend.of("ws-2", "10.0.0.2", 8080));
    Router router = router();
    RoutingDecision d;
    do {
      d = first(router);
    } while (!d.backend().id().equals("ws-1"));
    try (ConnectionLease lease = d.openLease(d.backend(), reason -> {})) {
      assertThat(lease.backend().id()).isEqualTo("ws-1");
      RoutingDecision full = router.select(withCookie(d.cookie().value()));
      assertThat(full.outcome()).isEqualTo(Outcome.FAILOVER);
      assertThat(full.backend().id()).isEqualTo("ws-2");
      assertThat(full.explanation()).contains("ws-1, which is at its connection cap");
    }
  }

  @Test
  void spillAssignment_underBoundedLoad_survivesReconnect() {
    group = BackendGroup.create(clock);
    group.add(Backend.of("ws-1", "10.0.0.1", 8080));
    group.add(Backend.of("ws-2", "10.0.0.2", 8080));
    Router router =
        Router.builder(group)
            .strategy(AffinityStrategy.cookie(config(CookieKeys.of(K1)).build()))
            .fallback(
                AffinityStrategy.boundedLoad(
                    AffinityStrategy.rendezvous(RoutingKey.header("X-Room")), 1.0))
            .build();
    RoutingRequest room = RoutingRequest.builder().header("X-Room", "lobby").build();
    List<ConnectionLease> leases = new ArrayList<>();
    RoutingDecision owner = router.select(room);
    assertThat(owner.outcome()).isEqualTo(Outcome.AFFINITY_HIT); // the key's owner
    leases.add(owner.openLease(owner.backend(), reason -> {}));
    RoutingDecision spill = router.select(room);
    assertThat(spill.outcome()).isEqualTo(Outcome.SPILL_OVER);
    assertThat(spill.backend()).isNotEqualTo(owner.backend());
    leases.add(spill.openLease(spill.backend(), reason -> {}));
    assertThat(Base64.getUrlDecoder().decode(spill.cookie().value())[2]).isEqualTo((byte) 1);

    // The spilled client reconnects after the load is gone: the cookie takes it back to its spill
    // target, even though the key's owner now has room.
    leases.forEach(ConnectionLease::close);
    RoutingRequest reconnect =
        RoutingRequest.builder()
            .header("X-Room", "lobby")
            .cookie("AFFINITY", spill.cookie().value())
            .build();
    RoutingDecision back = router.select(reconnect);
    assertThat(back.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(back.backend()).isEqualTo(spill.backend());
    assertThat(back.reason())
        .isEqualTo("valid affinity cookie (a spill assignment made under bounded load)");
  }

  @Test
  void connectFailover_cookieNamesTheBackendActuallyConnected() {
    Router router = router();
    RoutingDecision d = first(router);
    assertThat(d.cookieFor(d.backend())).isSameAs(d.cookie());
    Backend other = d.failoverCandidates().get(0);
    SetCookie moved = d.cookieFor(other);
    assertThat(moved).isNotNull();
    assertThat(moved.value()).isNotEqualTo(d.cookie().value());
    assertThat(router.select(withCookie(moved.value())).backend()).isEqualTo(other);

    // Also after a cookie hit, which sets no cookie of its own.
    RoutingDecision hit = router.select(withCookie(d.cookie().value()));
    assertThat(hit.cookie()).isNull();
    Backend next = hit.failoverCandidates().get(0);
    assertThat(router.select(withCookie(hit.cookieFor(next).value())).backend()).isEqualTo(next);

    // Without a cookie strategy there is nothing to set.
    RoutingDecision plain = Router.builder(group).build().select(fresh());
    assertThat(plain.cookieFor(plain.failoverCandidates().get(0))).isNull();
  }

  @Test
  void headerAndQueryCarriers_areAccepted_cookieFirst() {
    Router router =
        router(config(CookieKeys.of(K1)).header("X-Affinity").queryParameter("affinity").build());
    RoutingDecision d = first(router);
    String v = d.cookie().value();
    RoutingDecision byHeader =
        router.select(RoutingRequest.builder().header("x-affinity", v).build());
    assertThat(byHeader.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(byHeader.backend()).isEqualTo(d.backend());
    RoutingDecision byQuery =
        router.select(RoutingRequest.builder().queryParameter("affinity", v).build());
    assertThat(byQuery.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(byQuery.backend()).isEqualTo(d.backend());

    // The cookie wins over the header when both are present.
    RoutingDecision both =
        router.select(
            RoutingRequest.builder().cookie("AFFINITY", "garbage").header("X-Affinity", v).build());
    assertThat(both.explanation()).contains("(malformed)");

    // Without configured carriers, a header is ignored.
    assertThat(
            router().select(RoutingRequest.builder().header("X-Affinity", v).build()).explanation())
        .contains("no affinity cookie");
  }

  @Test
  void attributes_areConfigurable_andSecureFollowsTheRequestByDefault() {
    Router auto = router();
    assertThat(auto.select(RoutingRequest.builder().secure(true).build()).cookie().secure())
        .isTrue();
    assertThat(auto.select(RoutingRequest.builder().secure(false).build()).cookie().secure())
        .isFalse();

    Router custom =
        router(
            config(CookieKeys.of(K1))
                .name("sticky")
                .path("/ws")
                .domain("example.com")
                .sameSite(SetCookie.SameSite.STRICT)
                .httpOnly(false)
                .secure(true)
                .maxAge(Duration.ofHours(3))
                .maxAgeAttribute(true)
                .build());
    SetCookie c = custom.select(fresh()).cookie();
    assertThat(c.toHeaderValue())
        .startsWith("sticky=")
        .endsWith("; Path=/ws; Domain=example.com; Max-Age=10800; Secure; SameSite=Strict");
    assertThat(
            custom.select(RoutingRequest.builder().cookie("sticky", c.value()).build()).outcome())
        .isEqualTo(Outcome.AFFINITY_HIT);
  }

  @Test
  void builder_rejectsBadSettings_withFieldNamingMessages() {
    CookieKeys keys = CookieKeys.of(K1);
    assertThatThrownBy(() -> CookieAffinity.builder(keys).sameSite(SetCookie.SameSite.NONE).build())
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("sameSite: NONE (expected: secure(true) with SameSite=None)");
    assertThat(CookieAffinity.builder(keys).sameSite(SetCookie.SameSite.NONE).secure(true).build())
        .isNotNull();
    assertThatThrownBy(() -> CookieAffinity.builder(keys).maxAge(Duration.ZERO))
        .hasMessage("maxAge: PT0S (expected: PT1S..PT8784H)");
    assertThatThrownBy(() -> CookieAffinity.builder(keys).name("bad name"))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessageStartingWith("name: 'bad name'");
    assertThatThrownBy(() -> CookieAffinity.builder(keys).path("relative"))
        .hasMessageStartingWith("path: relative");
    assertThatThrownBy(() -> CookieAffinity.builder(keys).header(" "))
        .hasMessage("header: ' ' (expected: a header name)");
    assertThatThrownBy(() -> CookieAffinity.builder(keys).queryParameter(""))
        .hasMessage("queryParameter: '' (expected: a parameter name)");
  }

  @Test
  void keys_validateIdsAndLengths_andNeverShowSecrets(@TempDir Path dir) throws IOException {
    assertThatThrownBy(() -> CookieKey.of(256, SECRET_1)).hasMessage("id: 256 (expected: 0..255)");
    assertThatThrownBy(() -> CookieKey.of(1, new byte[16]))
        .hasMessage("secret: 16 bytes (expected: at least 32 bytes)");
    assertThatThrownBy(() -> CookieKeys.of(K1, CookieKey.of(1, SECRET_2)))
        .hasMessage("alsoAccepted: CookieKey{id=1, 32 bytes} (expected: key ids used once)");
    assertThatThrownBy(() -> CookieKey.fromBase64(1, "not*base64!secretmaterial"))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessageNotContaining("secretmaterial");

    String b64 = Base64.getEncoder().encodeToString(SECRET_1);
    assertThat(CookieKey.fromBase64(1, " " + b64 + "\n")).isEqualTo(K1);
    assertThat(
            CookieKey.fromBase64(
                1, Base64.getUrlEncoder().withoutPadding().encodeToString(SECRET_1)))
        .isEqualTo(K1);
    Path file = dir.resolve("key");
    Files.writeString(file, b64 + "\n");
    assertThat(CookieKey.fromFile(1, file)).isEqualTo(K1);
    assertThat(CookieKey.fromFile(1, file)).isNotEqualTo(CookieKey.of(1, SECRET_2));
    Files.writeString(file, "c2hvcnQ=");
    assertThatThrownBy(() -> CookieKey.fromFile(1, file))
        .hasMessage("file " + file + ": secret: 5 bytes (expected: at least 32 bytes)");

    CookieAffinity config = CookieAffinity.builder(CookieKeys.of(K2, K1)).build();
    String shown = AffinityStrategy.cookie(config).toString();
    assertThat(shown)
        .startsWith("AffinityStrategy.cookie(CookieAffinity{name=AFFINITY")
        .contains("CookieKey{id=2, 32 bytes}")
        .doesNotContain(b64)
        .doesNotContain(Arrays.toString(SECRET_1));
  }

  @Test
  void cookieValue_neverAppearsInReasonsExplanationsOrToString() {
    Router router = router();
    RoutingDecision d = first(router);
    String v = d.cookie().value();
    group.markDown(d.backend().id());
    RoutingDecision replay = router.select(withCookie(v));
    for (RoutingDecision x : List.of(d, replay)) {
      assertThat(x.explanation()).doesNotContain(v).doesNotContain(x.cookie().value());
      assertThat(x.toString()).doesNotContain(v);
      assertThat(x.reason()).doesNotContain(v);
      assertThat(x.cookie().toString()).doesNotContain(x.cookie().value());
    }
  }
}

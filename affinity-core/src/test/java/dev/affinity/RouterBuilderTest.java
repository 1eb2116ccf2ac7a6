package dev.affinity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.backend.BackendGroup;
import dev.affinity.strategy.AffinityStrategy;
import org.junit.jupiter.api.Test;

class RouterBuilderTest {
  private final BackendGroup group = BackendGroup.create();

  @Test
  void build_sameStrategyTwice_namesTheField() {
    AffinityStrategy ip = AffinityStrategy.sourceIp();
    assertThatThrownBy(() -> Router.builder(group).strategy(ip).strategy(ip).build())
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessageStartingWith("strategies: ")
        .hasMessageEndingWith("(expected: each strategy instance once)");
    assertThatThrownBy(() -> Router.builder(group).strategy(ip).fallback(ip).build())
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessageEndingWith("(expected: a strategy not also in strategies)");
  }

  @Test
  void singleValueSettings_setTwice_throwNamingTheValueAlreadySet() {
    Router.Builder b =
        Router.builder(group).fallback(AffinityStrategy.roundRobin()).maxFailoverCandidates(3);
    assertThatThrownBy(() -> b.fallback(AffinityStrategy.leastConnections()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("fallback was already set to " + AffinityStrategy.roundRobin().name());
    assertThatThrownBy(() -> b.maxFailoverCandidates(1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("maxFailoverCandidates was already set to 3");
    try (Router r = b.build()) {
      assertThat(r.fallback().name()).isEqualTo(AffinityStrategy.roundRobin().name());
    }
  }

  @Test
  void maxFailoverCandidates_validated() {
    assertThatThrownBy(() -> Router.builder(group).maxFailoverCandidates(-1))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("maxFailoverCandidates: -1 (expected: 0..100)");
  }

  @Test
  void nulls_areRejectedByName() {
    assertThatThrownBy(() -> Router.builder(group).strategy(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("strategy");
    assertThatThrownBy(() -> Router.builder(null)).hasMessage("group");
  }

  @Test
  void defaults_leastConnectionsFallback() {
    Router router = Router.builder(group).build();
    assertThat(router.fallback().name()).isEqualTo(Router.DEFAULT_FALLBACK);
    assertThat(router.strategies()).isEmpty();
  }

  @Test
  void setCookie_validatesAndNeverPrintsItsValue() {
    SetCookie c = SetCookie.of("AFFINITY", "abc.def").withSecure(true);
    assertThat(c.toHeaderValue())
        .isEqualTo("AFFINITY=abc.def; Path=/; Secure; HttpOnly; SameSite=Lax");
    assertThat(c.toString()).doesNotContain("abc.def");
    assertThatThrownBy(() -> SetCookie.of("bad name", "v"))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("name: 'bad name' (expected: an RFC 6265 cookie-name token)");
    assertThatThrownBy(() -> SetCookie.of("n", "v;x"))
        .hasMessage("value: <redacted> (expected: RFC 6265 cookie-octets)");
  }
}

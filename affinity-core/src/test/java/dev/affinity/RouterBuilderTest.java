package dev.affinity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.lifecycle.OutlierDetector;
import dev.affinity.metrics.RoutingStats;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.testkit.ManualScheduler;
import java.io.IOException;
import java.time.Instant;
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
  void outlierDetection_registeredOnce_hearsTheRoutersConnectFailures() {
    group.add(Backend.of("ws-1", "10.0.0.1", 8080));
    group.add(Backend.of("ws-2", "10.0.0.2", 8080));
    group.add(Backend.of("ws-3", "10.0.0.3", 8080));
    ManualScheduler scheduler = new ManualScheduler(Instant.EPOCH);
    try (OutlierDetector outliers =
            OutlierDetector.builder(group).consecutiveFailures(2).scheduler(scheduler).build();
        Router router = Router.builder(group).outlierDetection(outliers).build()) {
      Backend ws1 = group.snapshot().member("ws-1").backend();
      router.reportConnectFailure(ws1, new IOException("refused"));
      router.reportConnectFailure(ws1, new IOException("refused"));
      scheduler.runDue(); // the ejection runs on the detector's scheduler
      assertThat(outliers.ejectedCount()).isEqualTo(1);
      assertThat(group.snapshot().member("ws-1").state()).isEqualTo(BackendState.DOWN);
    }
  }

  @Test
  void outlierDetection_setTwice_otherGroup_orAlsoAListener_isRejectedNamingIt() {
    OutlierDetector outliers = OutlierDetector.builder(group).build();
    Router.Builder b = Router.builder(group).outlierDetection(outliers);
    assertThatThrownBy(() -> b.outlierDetection(outliers))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("outlierDetection was already set to " + outliers);
    assertThatThrownBy(
            () -> Router.builder(group).outlierDetection(outliers).listener(outliers).build())
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage(
            "listener: "
                + outliers
                + " (expected: not also the outlierDetection: register a detector once)");
    OutlierDetector elsewhere = OutlierDetector.builder(BackendGroup.create()).build();
    assertThatThrownBy(() -> Router.builder(group).outlierDetection(elsewhere).build())
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessageStartingWith("outlierDetection: " + elsewhere);
  }

  @Test
  void stats_isTheFirstRoutingStatsListener_orNull() {
    RoutingStats first = RoutingStats.create();
    try (Router with =
            Router.builder(group).listener(first).listener(RoutingStats.create()).build();
        Router without = Router.builder(group).build()) {
      assertThat(with.stats()).isSameAs(first);
      assertThat(without.stats()).isNull();
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

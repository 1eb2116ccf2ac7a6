package dev.affinity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.client.ClientAddressResolver;
import dev.affinity.metrics.RoutingListener;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.RoutingKey;
import dev.affinity.strategy.Selection;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RouterTest {
  private final BackendGroup group =
      BackendGroup.of(
          Backend.of("ws-1", "10.0.0.1", 8080),
          Backend.of("ws-2", "10.0.0.2", 8080),
          Backend.of("ws-3", "10.0.0.3", 8080));

  private static RoutingRequest from(String ip) {
    return RoutingRequest.builder().remoteAddress(ip, 40000).build();
  }

  @Test
  void select_sameClient_sameBackend() {
    Router router = Router.builder(group).strategy(AffinityStrategy.sourceIp()).build();
    RoutingDecision first = router.select(from("203.0.113.7"));
    for (int i = 0; i < 10; i++) {
      assertThat(router.select(from("203.0.113.7")).backend()).isEqualTo(first.backend());
    }
    assertThat(first.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    assertThat(first.strategy()).isEqualTo("source-ip");
  }

  @Test
  void select_noBackendUp_returnsNoBackendWithoutThrowing() {
    group.markDown("ws-1");
    group.markDown("ws-2");
    group.markDown("ws-3");
    Router router = Router.builder(group).strategy(AffinityStrategy.sourceIp()).build();
    RoutingDecision d = router.select(from("203.0.113.7"));
    assertThat(d.outcome()).isEqualTo(Outcome.NO_BACKEND);
    assertThat(d.hasBackend()).isFalse();
    assertThat(d.httpStatus()).isEqualTo(503);
    assertThat(d.reason()).isEqualTo("no backend is UP");
    assertThatThrownBy(d::backend).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void select_keyAbsent_fallsBackAndExplains() {
    Router router =
        Router.builder(group)
            .strategy(AffinityStrategy.rendezvous(RoutingKey.header("X-User")))
            .fallback(AffinityStrategy.roundRobin())
            .build();
    RoutingDecision d = router.select(from("203.0.113.7"));
    assertThat(d.outcome()).isEqualTo(Outcome.FIRST_ASSIGNMENT);
    assertThat(d.strategy()).isEqualTo("round-robin");
    assertThat(d.explanation())
        .isEqualTo(
            "rendezvous abstained: no key in the request; round-robin chose "
                + d.backend().id()
                + " (FIRST_ASSIGNMENT): round robin");
  }

  @Test
  void explanation_namesTrustedForwardedSource() {
    ClientAddressResolver resolver =
        ClientAddressResolver.builder().trustedProxies("10.0.0.0/8").build();
    Router router = Router.builder(group).strategy(AffinityStrategy.sourceIp(resolver)).build();
    RoutingDecision d =
        router.select(
            RoutingRequest.builder()
                .remoteAddress("10.1.2.3", 5000)
                .header("X-Forwarded-For", "198.51.100.1, 203.0.113.9")
                .build());
    assertThat(d.explanation())
        .startsWith("source-ip chose " + d.backend().id() + " (AFFINITY_HIT): owner of the key")
        .contains("key client IP 203.0.113.9 from X-Forwarded-For");
  }

  @Test
  void leases_countLiveConnectionsExactlyOnce() {
    Router router = Router.builder(group).build();
    RoutingDecision d = router.select(from("203.0.113.7"));
    ConnectionLease lease = d.openLease(d.backend(), reason -> {});
    assertThat(group.liveConnections(d.backend().id())).isEqualTo(1);
    lease.close();
    lease.close();
    assertThat(group.liveConnections(d.backend().id())).isZero();
  }

  @Test
  void throwingStrategyAndListener_neverBreakRouting() {
    List<String> failures = new ArrayList<>();
    AffinityStrategy broken =
        new AffinityStrategy() {
          @Override
          public Selection select(RoutingRequest request, dev.affinity.backend.Membership m) {
            throw new IllegalStateException("boom");
          }

          @Override
          public String name() {
            return "broken";
          }
        };
    Router router =
        Router.builder(group)
            .strategy(broken)
            .listener(
                new RoutingListener() {
                  @Override
                  public void strategyFailed(String strategy, Throwable error) {
                    failures.add(strategy);
                  }

                  @Override
                  public void decisionMade(RoutingDecision decision) {
                    throw new RuntimeException("listener bug");
                  }
                })
            .build();
    RoutingDecision d = router.select(from("203.0.113.7"));
    assertThat(d.hasBackend()).isTrue();
    assertThat(failures).containsExactly("broken");
    assertThat(d.explanation()).startsWith("broken abstained: failed: IllegalStateException");
  }
}

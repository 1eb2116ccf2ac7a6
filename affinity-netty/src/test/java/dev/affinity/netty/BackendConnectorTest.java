package dev.affinity.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.metrics.RoutingListener;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.RoutingKey;
import dev.affinity.testkit.DeadPort;
import dev.affinity.testkit.RawConnection;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link BackendConnector} on real sockets: failover walks the decision's own order, each refused
 * backend is reported once, and the first that accepts gets the request.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BackendConnectorTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @Test
  void refusedCandidates_areReportedOnceEach_inTheDecisionsOrder_andTheNextOneGetsTheRequest()
      throws Exception {
    List<DeadPort> dead = List.of(DeadPort.reserve(), DeadPort.reserve(), DeadPort.reserve());
    try (ScriptedBackend live = new ScriptedBackend()) {
      BackendGroup group =
          BackendGroup.of(
              Backend.of("dead-1", "127.0.0.1", dead.get(0).port()),
              Backend.of("dead-2", "127.0.0.1", dead.get(1).port()),
              Backend.of("dead-3", "127.0.0.1", dead.get(2).port()),
              Backend.of("live", "127.0.0.1", live.port()));
      List<String> reported = new CopyOnWriteArrayList<>();
      Router router =
          Router.builder(group)
              .strategy(AffinityStrategy.rendezvous(RoutingKey.header("X-User")))
              .maxFailoverCandidates(3)
              .listener(
                  new RoutingListener() {
                    @Override
                    public void connectFailed(Backend backend, Throwable cause) {
                      reported.add(backend.id());
                    }
                  })
              .build();
      String user = userWhoseOrderEndsWithLive(router);
      RoutingDecision decision = router.select(request(user));
      List<String> order = new ArrayList<>();
      order.add(decision.backend().id());
      decision.failoverCandidates().forEach(b -> order.add(b.id()));

      AffinityProxyServer proxy =
          AffinityProxyServer.builder(router).host("127.0.0.1").port(0).ioThreads(1).build();
      proxy.start();
      try (RawConnection client =
              RawConnection.open(proxy.port())
                  .readTimeout(WAIT)
                  .send(RawConnection.upgradeRequest("/", "X-User: " + user));
          Socket s = live.acceptHandshake()) {
        ScriptedBackend.write(s, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        assertThat(client.readResponseHead().status())
            .as("the live backend's answer")
            .isEqualTo(403);
        assertThat(reported).containsExactlyElementsOf(order.subList(0, 3));
      } finally {
        proxy.close();
      }
    } finally {
      dead.forEach(DeadPort::close);
    }
  }

  private static RoutingRequest request(String user) {
    return RoutingRequest.builder().header("X-User", user).build();
  }

  /** A user whose decision tries the three dead backends first and the live one last. */
  private static String userWhoseOrderEndsWithLive(Router router) {
    for (int i = 0; ; i++) {
      String user = "user-" + i;
      RoutingDecision d = router.select(request(user));
      List<Backend> next = d.failoverCandidates();
      if (next.size() == 3 && next.get(2).id().equals("live")) {
        return user;
      }
    }
  }
}

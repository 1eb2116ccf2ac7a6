package dev.affinity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.backend.Member;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.RoutingKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Membership churn during {@code select} from several threads: no exception, and every chosen
 * backend was a member, not DOWN, in the very snapshot the decision read.
 */
class RouterConcurrencyTest {
  @Test
  @Timeout(60)
  void select_underMembershipChurn_neverChoosesDownOrAbsent() throws Exception {
    BackendGroup group = BackendGroup.create();
    for (int i = 0; i < 8; i++) {
      group.add(Backend.of("b" + i, "10.0.0.1", 80));
    }
    Router router =
        Router.builder(group)
            .strategy(
                AffinityStrategy.boundedLoad(
                    AffinityStrategy.rendezvous(RoutingKey.header("K")), 1.5))
            .strategy(AffinityStrategy.sourceIp())
            .fallback(AffinityStrategy.powerOfTwoChoices())
            .build();
    AtomicBoolean stop = new AtomicBoolean();
    ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    int selectors = 4;
    CountDownLatch done = new CountDownLatch(selectors);
    long[] decisions = new long[selectors];
    for (int t = 0; t < selectors; t++) {
      int id = t;
      threads.add(
          new Thread(
              () -> {
                Random r = new Random(id);
                List<ConnectionLease> open = new ArrayList<>();
                try {
                  for (int i = 0; i < 50_000; i++) {
                    RoutingRequestBuilder b =
                        RoutingRequest.builder().remoteAddress("203.0.113." + r.nextInt(250), 1);
                    if (r.nextBoolean()) {
                      b.header("K", "k" + r.nextInt(100));
                    }
                    RoutingDecision d = router.select(b.build());
                    decisions[id]++;
                    if (d.hasBackend()) {
                      Member m = d.member();
                      assertThat(d.membership().contains(m)).isTrue();
                      assertThat(m.state()).isNotEqualTo(BackendState.DOWN);
                      open.add(d.openLease(d.backend(), reason -> {}));
                    } else {
                      assertThat(d.outcome()).isEqualTo(Outcome.NO_BACKEND);
                    }
                    if (open.size() > 20) {
                      open.remove(r.nextInt(open.size())).close();
                    }
                  }
                } catch (Throwable e) {
                  errors.add(e);
                } finally {
                  open.forEach(ConnectionLease::close);
                  done.countDown();
                }
              }));
    }
    Thread churn =
        new Thread(
            () -> {
              Random r = new Random(99);
              int next = 8;
              try {
                while (!stop.get()) {
                  List<Member> ms = group.snapshot().members();
                  int op = r.nextInt(5);
                  if (op == 0 || ms.size() < 2) {
                    group.add(
                        Backend.of("b" + next++, "10.0.0.1", 80).withWeight(1 + r.nextInt(3)));
                  } else {
                    String id = ms.get(r.nextInt(ms.size())).id();
                    switch (op) {
                      case 1:
                        group.remove(id);
                        break;
                      case 2:
                        group.markDown(id);
                        break;
                      case 3:
                        group.drain(id);
                        break;
                      default:
                        group.markUp(id);
                    }
                  }
                }
              } catch (Throwable e) {
                errors.add(e);
              }
            });
    churn.start();
    threads.forEach(Thread::start);
    assertThat(done.await(50, TimeUnit.SECONDS)).isTrue();
    stop.set(true);
    churn.join();
    assertThat(errors).isEmpty();
    long total = 0;
    for (long d : decisions) {
      total += d;
    }
    assertThat(total).isEqualTo(selectors * 50_000L);
    // Every lease was closed: counts return to zero for every member still present.
    for (Member m : group.snapshot().members()) {
      assertThat(m.liveConnections()).as(m.id()).isZero();
    }
  }
}

package dev.affinity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.Selection;
import dev.affinity.strategy.Selector;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * The examples of docs/strategies.md, "Writing your own AffinityStrategy", compiled and run; the
 * guide shows exactly the two classes below this one.
 */
class StrategiesGuideTest {
  private static Router router(AffinityStrategy strategy, Backend... backends) {
    return Router.builder(BackendGroup.of(backends))
        .strategy(strategy)
        .fallback(AffinityStrategy.roundRobin())
        .build();
  }

  @Test
  void adminPool_sendsAdminPathsToTheAdminBackend_andAbstainsForOthers() {
    Router router =
        router(
            new AdminPool(),
            Backend.of("ws-1", "10.0.0.1", 8080),
            Backend.of("ws-2", "10.0.0.2", 8080).withMetadata("pool", "admin"));
    RoutingDecision admin = router.select(RoutingRequest.builder().path("/admin/users").build());
    assertThat(admin.strategy()).isEqualTo("admin-pool");
    assertThat(admin.backend().id()).isEqualTo("ws-2");
    RoutingDecision chat = router.select(RoutingRequest.builder().path("/chat").build());
    assertThat(chat.strategy()).isEqualTo("round-robin");
    assertThat(chat.explanation()).contains("admin-pool abstained: not an admin path");
  }

  @Test
  void roomOwner_routesByTheTableBuiltForTheSnapshot() {
    Router router =
        router(
            new RoomOwner(),
            Backend.of("ws-1", "10.0.0.1", 8080).withMetadata("room", "red"),
            Backend.of("ws-2", "10.0.0.2", 8080).withMetadata("room", "blue"));
    for (int i = 0; i < 3; i++) {
      RoutingDecision blue =
          router.select(RoutingRequest.builder().queryParameter("room", "blue").build());
      assertThat(blue.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
      assertThat(blue.backend().id()).isEqualTo("ws-2");
    }
    router.group().remove("ws-2"); // a new snapshot: a new table, without blue
    RoutingDecision gone =
        router.select(RoutingRequest.builder().queryParameter("room", "blue").build());
    assertThat(gone.strategy()).isEqualTo("round-robin");
    assertThat(gone.backend().id()).isEqualTo("ws-1");
  }

  @Test
  void guide_showsExactlyTheseClasses() throws IOException {
    String guide = Files.readString(Path.of("..", "docs", "strategies.md"));
    String source =
        Files.readString(Path.of("src/test/java/dev/affinity/StrategiesGuideTest.java"));
    for (String name : new String[] {"admin-pool", "room-owner"}) {
      String block =
          ReadmeQuickStartTest.between(
              guide, "<!-- guide:" + name + ":begin", "<!-- guide:" + name + ":end -->");
      block = ReadmeQuickStartTest.between(block, "```java\n", "```");
      assertThat(
              ReadmeQuickStartTest.between(
                  source, "// guide:" + name + ":begin\n", "// guide:" + name + ":end"))
          .as(name)
          .isEqualTo(block);
    }
  }
}

// spotless:off
// guide:admin-pool:begin
/** Sends handshakes for /admin to the backends tagged "admin"; abstains for everything else. */
final class AdminPool implements AffinityStrategy {
  @Override public String name() { return "admin-pool"; }

  @Override public Selection select(RoutingRequest request, Membership membership) {
    if (!request.path().startsWith("/admin")) {
      return Selection.abstain("not an admin path");
    }
    for (Member m : membership.upMembers()) {
      if ("admin".equals(m.backend().metadata().get("pool")) && m.hasCapacity()) {
        return Selection.chosen(m, Outcome.FIRST_ASSIGNMENT, "admin pool");
      }
    }
    return Selection.noBackend("no admin backend is UP");
  }
}
// guide:admin-pool:end

// guide:room-owner:begin
/** Sends ?room=NAME to the backend whose "room" metadata is NAME, from a table per snapshot. */
final class RoomOwner implements AffinityStrategy {
  @Override public String name() { return "room-owner"; }

  /** Routers never call this (they use the selector); direct callers, such as tests, may. */
  @Override public Selection select(RoutingRequest request, Membership membership) {
    return selector(membership, null).select(request);
  }

  @Override public Selector selector(Membership membership, @Nullable Selector previous) {
    Map<String, Member> byRoom = new HashMap<>();        // built once per snapshot...
    for (Member m : membership.upMembers()) {
      String room = m.backend().metadata().get("room");
      if (room != null) {
        byRoom.put(room, m);
      }
    }
    return request -> {                                  // ...read by every request
      String room = request.queryParameter("room");
      Member m = room == null ? null : byRoom.get(room);
      return m == null || !m.hasCapacity()
          ? Selection.abstain("no owner for this room")
          : Selection.chosen(m, Outcome.AFFINITY_HIT, "room owner");
    };
  }
}
// guide:room-owner:end
// spotless:on

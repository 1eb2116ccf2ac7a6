package dev.affinity.discovery;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.testkit.Await;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Discovery against a real DNS server (dnsmasq on loopback) and a real file. */
class DiscoveredMembershipTest {
  private final AtomicLong now = new AtomicLong(1_700_000_000_000L);
  private final InstantSource clock = () -> Instant.ofEpochMilli(now.get());
  private DnsServer dns;

  @BeforeEach
  void startDns() throws Exception {
    dns =
        DnsServer.start(
            List.of("127.0.0.11 chat.test", "127.0.0.12 chat.test"),
            List.of(
                "_ws._tcp.chat.test,pod-a.chat.test,8081,0,5",
                "_ws._tcp.chat.test,pod-b.chat.test,8082,0,0"));
  }

  @AfterEach
  void stopDns() throws Exception {
    dns.close();
  }

  private static void await(String what, BooleanSupplier condition) {
    Await.until(what, Duration.ofSeconds(10), condition);
  }

  private static Set<String> ids(BackendGroup g) {
    return g.snapshot().members().stream().map(m -> m.id()).collect(Collectors.toSet());
  }

  private static Set<String> answer(BackendSource source) {
    try {
      return source.backends().stream().map(Backend::id).collect(Collectors.toSet());
    } catch (IOException e) {
      return Set.of();
    }
  }

  @Test
  void dns_recordAddedOrRemoved_isAMemberAddedOrDrainedThenRemoved_withinOneRefresh()
      throws Exception {
    BackendGroup group = BackendGroup.create(clock);
    BackendSource source = BackendSource.dns("chat.test", 8080, dns.address());
    DiscoveredMembership discovery =
        DiscoveredMembership.builder(group, source)
            .clock(clock)
            .drainDeadline(Duration.ofMinutes(2))
            .build();

    assertThat(discovery.refresh()).isTrue();
    assertThat(ids(group)).containsExactlyInAnyOrder("127.0.0.11:8080", "127.0.0.12:8080");
    assertThat(group.snapshot().member("127.0.0.11:8080").backend().host()).isEqualTo("127.0.0.11");

    // A record added: one refresh adds it.
    dns.setHosts(List.of("127.0.0.11 chat.test", "127.0.0.12 chat.test", "127.0.0.13 chat.test"));
    await("dnsmasq serves the new record", () -> answer(source).size() == 3);
    discovery.refresh();
    assertThat(ids(group)).contains("127.0.0.13:8080");

    // A record removed: its backend with an open connection is drained in one refresh...
    ConnectionLease open =
        group.openConnection(group.snapshot().member("127.0.0.12:8080").backend());
    dns.setHosts(List.of("127.0.0.11 chat.test", "127.0.0.13 chat.test"));
    await("dnsmasq dropped the record", () -> answer(source).size() == 2);
    discovery.refresh();
    assertThat(group.snapshot().member("127.0.0.12:8080").state()).isEqualTo(BackendState.DRAINING);
    assertThat(group.snapshot().member("127.0.0.12:8080").drainDeadline())
        .isEqualTo(clock.instant().plus(Duration.ofMinutes(2)));
    discovery.refresh();
    assertThat(ids(group)).contains("127.0.0.12:8080"); // still draining: connection open

    // ...and removed at the first refresh after its last connection closed.
    open.close();
    discovery.refresh();
    assertThat(ids(group)).containsExactlyInAnyOrder("127.0.0.11:8080", "127.0.0.13:8080");
  }

  @Test
  void dns_removedBackend_isRemovedAtTheDeadlineWithConnectionsOpen() throws Exception {
    BackendGroup group = BackendGroup.create(clock);
    BackendSource source = BackendSource.dns("chat.test", 8080, dns.address());
    DiscoveredMembership discovery =
        DiscoveredMembership.builder(group, source)
            .clock(clock)
            .drainDeadline(Duration.ofSeconds(30))
            .build();
    discovery.refresh();
    group.openConnection(group.snapshot().member("127.0.0.12:8080").backend());
    dns.setHosts(List.of("127.0.0.11 chat.test"));
    await("dnsmasq dropped the record", () -> answer(source).size() == 1);

    discovery.refresh();
    now.addAndGet(Duration.ofSeconds(30).toMillis() - 1);
    discovery.refresh();
    assertThat(ids(group)).contains("127.0.0.12:8080");
    now.addAndGet(1);
    discovery.refresh();

    assertThat(ids(group)).containsExactly("127.0.0.11:8080");
  }

  @Test
  void dns_backendReturningWhileDraining_isMarkedUpAgain() throws Exception {
    BackendGroup group = BackendGroup.create(clock);
    BackendSource source = BackendSource.dns("chat.test", 8080, dns.address());
    DiscoveredMembership discovery =
        DiscoveredMembership.builder(group, source).clock(clock).build();
    discovery.refresh();
    group.openConnection(group.snapshot().member("127.0.0.12:8080").backend());
    dns.setHosts(List.of("127.0.0.11 chat.test"));
    await("dropped", () -> answer(source).size() == 1);
    discovery.refresh();
    assertThat(group.snapshot().member("127.0.0.12:8080").state()).isEqualTo(BackendState.DRAINING);

    dns.setHosts(List.of("127.0.0.11 chat.test", "127.0.0.12 chat.test"));
    await("back", () -> answer(source).size() == 2);
    discovery.refresh();

    assertThat(group.snapshot().member("127.0.0.12:8080").state()).isEqualTo(BackendState.UP);
  }

  @Test
  void dns_serverDown_changesNothing() throws Exception {
    BackendGroup group = BackendGroup.create(clock);
    DiscoveredMembership discovery =
        DiscoveredMembership.builder(group, BackendSource.dns("chat.test", 8080, dns.address()))
            .clock(clock)
            .build();
    discovery.refresh();
    dns.close();

    assertThat(discovery.refresh()).isFalse();

    assertThat(ids(group)).hasSize(2);
    assertThat(group.snapshot().upMembers()).hasSize(2);
  }

  @Test
  void dnsSrv_targetsAndPortsBecomeBackends_withTheirWeights() throws Exception {
    List<Backend> found = BackendSource.dnsSrv("_ws._tcp.chat.test", dns.address()).backends();

    assertThat(found)
        .containsExactlyInAnyOrder(
            Backend.of("pod-a.chat.test:8081", "pod-a.chat.test", 8081).withWeight(5),
            Backend.of("pod-b.chat.test:8082", "pod-b.chat.test", 8082));
  }

  @Test
  void scheduled_recordAdded_appearsWithoutAnyCall() throws Exception {
    BackendGroup group = BackendGroup.create();
    try (DiscoveredMembership discovery =
        DiscoveredMembership.builder(group, BackendSource.dns("chat.test", 8080, dns.address()))
            .interval(Duration.ofMillis(100))
            .build()) {
      assertThat(discovery.start()).isTrue();
      assertThat(ids(group)).hasSize(2); // before start() returned
      dns.setHosts(List.of("127.0.0.11 chat.test", "127.0.0.12 chat.test", "::1 chat.test"));
      await("the AAAA member", () -> ids(group).contains("[0:0:0:0:0:0:0:1]:8080"));
    }
  }

  @Test
  void file_watchedForChanges_membersFollowTheFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("backends");
    Files.writeString(file, "# fleet\nws-1 127.0.0.1:9001 weight=2\n127.0.0.1:9002\n", UTF_8);
    BackendGroup group = BackendGroup.create(clock);
    DiscoveredMembership discovery =
        DiscoveredMembership.builder(group, BackendSource.file(file)).clock(clock).build();

    discovery.refresh();
    assertThat(ids(group)).containsExactlyInAnyOrder("ws-1", "127.0.0.1:9002");
    assertThat(group.snapshot().member("ws-1").backend().weight()).isEqualTo(2);

    Files.writeString(file, "ws-1 127.0.0.1:9001 weight=3 max-connections=10\n", UTF_8);
    discovery.refresh();
    assertThat(ids(group)).containsExactly("ws-1");
    assertThat(group.snapshot().member("ws-1").backend().weight()).isEqualTo(3);

    Files.writeString(file, "ws-1 127.0.0.1:nope\n", UTF_8); // malformed: nothing changes
    assertThat(discovery.refresh()).isFalse();
    assertThat(ids(group)).containsExactly("ws-1");
  }

  @Test
  void discovery_neverTouchesMembersItDidNotAdd(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("backends");
    Files.writeString(file, "127.0.0.1:9002\n", UTF_8);
    BackendGroup group = BackendGroup.create(clock);
    group.add(Backend.of("flagged", "127.0.0.1", 9001));
    DiscoveredMembership discovery =
        DiscoveredMembership.builder(group, BackendSource.file(file)).clock(clock).build();

    discovery.refresh();
    Files.writeString(file, "", UTF_8);
    discovery.refresh();

    assertThat(ids(group)).containsExactly("flagged");
  }
}

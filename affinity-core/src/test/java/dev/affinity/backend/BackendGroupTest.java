package dev.affinity.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.UnknownBackendException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class BackendGroupTest {
  private static final Backend A = Backend.of("a", "10.0.0.1", 8080);
  private static final Backend B = Backend.of("b", "10.0.0.2", 8080);

  @Test
  void backend_validatesEachField() {
    assertThatThrownBy(() -> Backend.of("", "h", 1))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("id: '' (expected: 1 to 128 visible ASCII characters)");
    assertThatThrownBy(() -> Backend.of("a b", "h", 1))
        .hasMessage("id: 'a b' (expected: 1 to 128 visible ASCII characters)");
    assertThatThrownBy(() -> Backend.of("a", "h", 0)).hasMessage("port: 0 (expected: 1..65535)");
    assertThatThrownBy(() -> A.withWeight(0)).hasMessage("weight: 0 (expected: 1..1000000)");
    assertThatThrownBy(() -> A.withMaxConnections(-1))
        .hasMessage("maxConnections: -1 (expected: >= 0 (0 = no cap))");
    assertThatThrownBy(() -> Backend.of(null, "h", 1))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("id");
  }

  @Test
  void backend_valueSemanticsAndToString() {
    Backend b = Backend.of("ws-1", "10.0.0.1", 8080).withWeight(2).withMetadata("zone", "a");
    assertThat(b)
        .isEqualTo(Backend.of("ws-1", "10.0.0.1", 8080).withWeight(2).withMetadata("zone", "a"));
    assertThat(b).isNotEqualTo(b.withWeight(3));
    assertThat(b)
        .hasToString(
            "Backend.of(\"ws-1\", \"10.0.0.1\", 8080).withWeight(2).withMetadata(\"zone\", \"a\")");
    assertThat(b.maxConnections()).isEmpty();
    assertThat(b.withMaxConnections(5).maxConnections()).hasValue(5);
  }

  @Test
  void snapshot_isImmutableAndSortedById() {
    BackendGroup g = BackendGroup.of(B, A);
    Membership before = g.snapshot();
    g.markDown("a");
    assertThat(before.member("a").state()).isEqualTo(BackendState.UP);
    assertThat(g.snapshot().member("a").state()).isEqualTo(BackendState.DOWN);
    assertThat(g.snapshot().members()).extracting(Member::id).containsExactly("a", "b");
    assertThat(g.snapshot().version()).isGreaterThan(before.version());
    assertThat(g.snapshot().upMembers()).extracting(Member::id).containsExactly("b");
  }

  @Test
  void mutations_onUnknownIdsFailWithTheId() {
    BackendGroup g = BackendGroup.of(A);
    assertThatThrownBy(() -> g.markDown("zz"))
        .isInstanceOf(UnknownBackendException.class)
        .hasMessage("backend: zz (expected: the id of a member of the group)");
    assertThatThrownBy(() -> g.add(A))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("backend: a (expected: an id not already in the group)");
    assertThat(g.remove("zz")).isFalse();
  }

  @Test
  void drainUntil_keepsTheGivenInstant_whateverTheClockSays() {
    AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
    BackendGroup g = BackendGroup.create(now::get);
    g.add(A);
    now.set(Instant.parse("2026-01-01T00:00:00.7Z"));
    g.drainUntil("a", Instant.parse("2026-01-01T00:05:00.123Z"));
    Member m = g.snapshot().member("a");
    assertThat(m.state()).isEqualTo(BackendState.DRAINING);
    assertThat(m.drainDeadline()).isEqualTo(Instant.parse("2026-01-01T00:05:00.123Z"));
    assertThatThrownBy(() -> g.drainUntil("nope", Instant.EPOCH))
        .isInstanceOf(UnknownBackendException.class);
  }

  @Test
  void drain_recordsDeadlineFromTheInjectedClock() {
    AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
    InstantSource clock = now::get;
    BackendGroup g = BackendGroup.create(clock);
    g.add(A);
    now.set(Instant.parse("2026-01-01T00:01:00Z"));
    g.drain("a", Duration.ofMinutes(5));
    Member m = g.snapshot().member("a");
    assertThat(m.state()).isEqualTo(BackendState.DRAINING);
    assertThat(m.stateSince()).isEqualTo(Instant.parse("2026-01-01T00:01:00Z"));
    assertThat(m.drainDeadline()).isEqualTo(Instant.parse("2026-01-01T00:06:00Z"));
    assertThat(m.acceptsNewClients()).isFalse();
    g.markUp("a");
    assertThat(g.snapshot().member("a").drainDeadline()).isNull();
  }

  @Test
  void listeners_hearEveryChangeInOrder_andAThrowingListenerIsIgnored() {
    BackendGroup g = BackendGroup.create();
    List<String> heard = new ArrayList<>();
    g.addListener(
        (prev, cur) -> {
          throw new IllegalStateException("listener bug");
        });
    g.addListener((prev, cur) -> heard.add(prev.size() + "->" + cur.size()));
    g.add(A);
    g.add(B);
    g.remove("a");
    assertThat(heard).containsExactly("0->1", "1->2", "2->1");
  }

  @Test
  void settingTheSameStateTwice_publishesNothing() {
    BackendGroup g = BackendGroup.of(A);
    long v = g.snapshot().version();
    g.markUp("a");
    assertThat(g.snapshot().version()).isEqualTo(v);
  }

  @Test
  void liveCounts_surviveUpdateAndRemoval() {
    BackendGroup g = BackendGroup.of(A, B);
    ConnectionLease l1 = g.openConnection(A);
    ConnectionLease l2 = g.openConnection(A);
    g.update(A.withWeight(5));
    assertThat(g.snapshot().member("a").liveConnections()).isEqualTo(2);
    assertThat(g.snapshot().member("a").backend().weight()).isEqualTo(5);
    g.remove("a");
    assertThat(g.liveConnections("a")).isEqualTo(2);
    g.add(A);
    // Re-added under the same id: the still-open connections are counted.
    assertThat(g.snapshot().member("a").liveConnections()).isEqualTo(2);
    l1.close();
    l2.close();
    l2.close();
    assertThat(g.liveConnections()).containsEntry("a", 0);
    g.remove("a");
    assertThat(g.liveConnections()).doesNotContainKey("a");
  }

  @Test
  void cap_makesMemberFullAtTheLimit() {
    Backend capped = A.withMaxConnections(1);
    BackendGroup g = BackendGroup.of(capped);
    assertThat(g.snapshot().member("a").hasCapacity()).isTrue();
    ConnectionLease l = g.openConnection(capped);
    assertThat(g.snapshot().member("a").hasCapacity()).isFalse();
    l.close();
    assertThat(g.snapshot().member("a").hasCapacity()).isTrue();
  }

  @Test
  void fingerprint_coversIdsWeightsAndStatesOnly() {
    BackendGroup g1 = BackendGroup.of(A, B);
    BackendGroup g2 = BackendGroup.of(B.withAddress("192.168.0.9", 1), A);
    assertThat(g1.snapshot().fingerprint()).isEqualTo(g2.snapshot().fingerprint());
    g2.markDown("b");
    assertThat(g1.snapshot().fingerprint()).isNotEqualTo(g2.snapshot().fingerprint());
    g1.markDown("b");
    assertThat(g1.snapshot().fingerprint()).isEqualTo(g2.snapshot().fingerprint());
    g1.update(A.withWeight(2));
    assertThat(g1.snapshot().fingerprint()).isNotEqualTo(g2.snapshot().fingerprint());
  }
}

package dev.affinity.strategy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.Membership;
import org.junit.jupiter.api.Test;

/**
 * Publishing builds selectors incrementally: a snapshot that changes nothing a strategy reads
 * reuses that strategy's tables.
 */
class SelectorReuseTest {
  private static BackendGroup group(int n) {
    BackendGroup g = BackendGroup.create();
    for (int i = 0; i < n; i++) {
      g.add(Backend.of("b" + i, "10.0.0." + (i + 1), 8080));
    }
    return g;
  }

  @Test
  void cookie_stateOrWeightChange_reusesTheTagTables() {
    BackendGroup g = group(4);
    AffinityStrategy s =
        AffinityStrategy.cookie(
            CookieAffinity.builder(CookieKeys.of(CookieStrategyTest.K1)).build());
    CookieStrategy.CookieSelector first =
        (CookieStrategy.CookieSelector) s.selector(g.snapshot(), null);
    g.update(Backend.of("b1", "10.0.0.2", 8080).withWeight(5));
    g.markDown("b2");
    Membership changed = g.snapshot();
    CookieStrategy.CookieSelector second =
        (CookieStrategy.CookieSelector) s.selector(changed, first);
    assertThat(second.membership()).isSameAs(changed);
    assertThat(second.tags.sorted).isSameAs(first.tags.sorted);
    // ... and finds the new snapshot's member objects.
    assertThat(second.tags.find(1, second.tags.tagOf(1, changed.member("b1"))))
        .isSameAs(changed.member("b1"));

    g.add(Backend.of("b9", "10.0.0.9", 8080));
    CookieStrategy.CookieSelector third =
        (CookieStrategy.CookieSelector) s.selector(g.snapshot(), second);
    assertThat(third.tags.sorted).isNotSameAs(second.tags.sorted);
  }

  @Test
  void maglev_changeOutsideTheUpMembers_reusesTheTable() {
    BackendGroup g = group(4);
    g.markDown("b3");
    AffinityStrategy s = AffinityStrategy.maglev(RoutingKey.header("X-Key"));
    MaglevStrategy.MaglevSelector first =
        (MaglevStrategy.MaglevSelector) s.selector(g.snapshot(), null);
    g.update(Backend.of("b3", "10.0.0.4", 8080).withWeight(7)); // still DOWN
    MaglevStrategy.MaglevSelector second =
        (MaglevStrategy.MaglevSelector) s.selector(g.snapshot(), first);
    assertThat(second.table).isSameAs(first.table);

    g.markUp("b3");
    MaglevStrategy.MaglevSelector third =
        (MaglevStrategy.MaglevSelector) s.selector(g.snapshot(), second);
    assertThat(third.table).isNotSameAs(second.table);
  }
}

package dev.affinity.jmh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class FairnessSimulatorTest {
  private static final String[] KEYS = FairnessSimulator.keys(20_000, 1);

  private static Map<String, FairnessSimulator.Contender> byName() {
    return FairnessSimulator.contenders().stream()
        .collect(Collectors.toMap(FairnessSimulator.Contender::name, Function.identity()));
  }

  @Test
  void keys_areDistinctIpv4Text() {
    assertThat(KEYS).doesNotHaveDuplicates().allMatch(k -> k.matches("\\d+\\.\\d+\\.\\d+\\.\\d+"));
  }

  @Test
  void rendezvous_movesAbout1OverN_andBalances() {
    FairnessSimulator.Row r = FairnessSimulator.simulate(byName().get("affinity HRW"), 16, KEYS);
    // 20,000 keys over 16 backends: 1,250 per backend, sigma about 34; 20% is over 7 sigma.
    assertThat(r.movedOnRemove()).isBetween(0.8 / 16, 1.2 / 16);
    assertThat(r.movedOnAdd()).isBetween(0.8 / 17, 1.2 / 17);
    assertThat(r.maxOverMean()).isBetween(1.0, 1.2);
  }

  /**
   * The table moves exactly the keys that must move: on removal, the removed backend's own keys; on
   * addition, the keys the newcomer ends up with. Both ratios are exactly 1, not about 1.
   */
  @Test
  void rendezvousTable_movesExactlyTheChangedBackendsKeys() {
    for (int n : new int[] {3, 16}) {
      FairnessSimulator.Row r =
          FairnessSimulator.simulate(byName().get("affinity HRW table (M=2^22)"), n, KEYS);
      assertThat(r.removeOverOwn()).isEqualTo(1.0);
      assertThat(r.addOverOwn()).isEqualTo(1.0);
      assertThat(r.movedOnRemove()).isPositive();
    }
    FairnessSimulator.Row maglev =
        FairnessSimulator.simulate(byName().get("affinity maglev (M=65537)"), 16, KEYS);
    assertThat(maglev.removeOverOwn()).isGreaterThan(1.0);
  }

  @Test
  void jumpHash_renumbersTheListWhenAMiddleBackendLeaves() {
    FairnessSimulator.Row r =
        FairnessSimulator.simulate(byName().get("Guava consistentHash"), 16, KEYS);
    assertThat(r.movedOnRemove()).isGreaterThan(0.4);
    assertThat(r.movedOnAdd()).isBetween(0.8 / 17, 1.2 / 17);
  }

  @Test
  void balanceOnlyContenders_reportNoDisruption() {
    FairnessSimulator.Row r =
        FairnessSimulator.simulate(byName().get("affinity bounded 1.25"), 16, KEYS);
    assertThat(r.movedOnRemove()).isNaN();
    assertThat(r.maxOverMean()).isBetween(1.0, 1.25 + 16.0 / KEYS.length);
  }
}

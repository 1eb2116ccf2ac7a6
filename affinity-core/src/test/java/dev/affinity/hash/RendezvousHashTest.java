package dev.affinity.hash;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Golden vectors for the pinned hash. These values are API: every proxy instance, in any language,
 * must compute them. If one of these tests fails, the change broke agreement with every deployed
 * instance; revert it. The same table is published in docs/hashing.md.
 */
class RendezvousHashTest {
  private static final List<String> THREE = List.of("ws-1", "ws-2", "ws-3");
  private static final List<String> FIVE = List.of("alpha", "bravo", "charlie", "delta", "echo");

  @Test
  void keyHash_isReferenceMurmur3x86_32() {
    // Published reference vectors of MurmurHash3_x86_32 with seed 0.
    assertThat(RendezvousHash.keyHash("")).isEqualTo(0x00000000L);
    assertThat(RendezvousHash.keyHash("hello")).isEqualTo(0x248bfa47L);
    assertThat(RendezvousHash.keyHash("The quick brown fox jumps over the lazy dog"))
        .isEqualTo(0x2e4ff723L);
  }

  @ParameterizedTest(name = "key [{0}]")
  @CsvSource(
      delimiter = '|',
      value = {
        "''|00000000|ws-3|bravo",
        "alice|4c518edd|ws-2|alpha",
        "bob|a85b7bf2|ws-2|bravo",
        "203.0.113.7|9f086370|ws-3|echo",
        "user:42|c7a6a375|ws-3|charlie",
        "tenant-a/sub-9|cfb1129e|ws-2|alpha",
        "Zürich|29695951|ws-1|echo",
      })
  void goldenVectors_owners(String key, String keyHash, String ownerOfThree, String ownerOfFive) {
    assertThat(RendezvousHash.keyHash(key)).isEqualTo(Long.parseLong(keyHash, 16));
    assertThat(RendezvousHash.owner(key, THREE)).isEqualTo(ownerOfThree);
    assertThat(RendezvousHash.owner(key, FIVE)).isEqualTo(ownerOfFive);
  }

  @Test
  void goldenVectors_idHashesAndScore() {
    assertThat(RendezvousHash.idHash("ws-1")).isEqualTo(0x5c75db4cL);
    assertThat(RendezvousHash.idHash("ws-2")).isEqualTo(0xcee355bbL);
    assertThat(RendezvousHash.idHash("ws-3")).isEqualTo(0xcc9ed2f7L);
    assertThat(RendezvousHash.score(0x4c518eddL, 0x5c75db4cL)).isEqualTo(0xca0d2ade32962a15L);
  }

  @Test
  void ipv4KeyHash_equalsHashOfNetworkOrderBytes() {
    byte[] bytes = {(byte) 203, 0, 113, 7};
    assertThat(RendezvousHash.keyHashIpv4(0xCB007107)).isEqualTo(0xb11da201L);
    assertThat(RendezvousHash.keyHash(bytes)).isEqualTo(0xb11da201L);
  }

  @Test
  void weightedOwner_goldenVectors() {
    Map<String, Integer> weights = new TreeMap<>(Map.of("ws-1", 1, "ws-2", 2, "ws-3", 5));
    assertThat(RendezvousHash.owner("alice", weights)).isEqualTo("ws-3");
    assertThat(RendezvousHash.owner("bob", weights)).isEqualTo("ws-3");
    // Equal weights fall back to the unweighted rule, whatever the common weight.
    Map<String, Integer> equal = new TreeMap<>(Map.of("ws-1", 7, "ws-2", 7, "ws-3", 7));
    assertThat(RendezvousHash.owner("alice", equal)).isEqualTo("ws-2");
  }

  @Test
  void textKey_hashesUtf8() {
    assertThat(RendezvousHash.keyHash("Zürich"))
        .isEqualTo(RendezvousHash.keyHash("Zürich".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void owner_emptyCandidates_isNull() {
    assertThat(RendezvousHash.owner("alice", List.of())).isNull();
  }

  /**
   * A scan over members with one key folds fmix64's first step into the operands: equal to {@link
   * RendezvousHash#score} for every 32-bit key and id hash (spot checks at the extremes and 10,000
   * random pairs from a fixed seed).
   */
  @Test
  void fmix64Tail_withTheFirstStepFolded_equalsScore() {
    java.util.Random r = new java.util.Random(7);
    long[] edges = {0, 1, 2, 0x7fff_ffffL, 0x8000_0000L, 0xffff_fffeL, 0xffff_ffffL};
    for (long k : edges) {
      for (long h : edges) {
        assertThat(RendezvousHash.fmix64Tail((k << 32) | (h ^ (k >>> 1))))
            .isEqualTo(RendezvousHash.score(k, h));
      }
    }
    for (int i = 0; i < 10_000; i++) {
      long k = r.nextInt() & 0xffff_ffffL;
      long h = r.nextInt() & 0xffff_ffffL;
      assertThat(RendezvousHash.fmix64Tail((k << 32) | (h ^ (k >>> 1))))
          .isEqualTo(RendezvousHash.score(k, h));
    }
  }
}

package dev.affinity.jmh;

import static org.assertj.core.api.Assertions.assertThat;

import com.dynatrace.hash4j.hashing.Hashing;
import dev.affinity.hash.RendezvousHash;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class PeersTest {
  private static final byte[][] KEYS = Fixtures.keyBytes(Fixtures.addresses("ipv4", 1));

  @Test
  void hash4jMurmur3_32_equalsThePinnedKeyHash() {
    // The core could take its MurmurHash3 from hash4j without changing a single owner.
    for (String s : List.of("", "hello", "alice", "Zürich", "user-42")) {
      byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
      assertThat(Integer.toUnsignedLong(Hashing.murmur3_32().hashBytesToInt(utf8)))
          .isEqualTo(RendezvousHash.keyHash(s));
    }
    InetAddress a = Fixtures.addresses("ipv4", 3)[0];
    assertThat(
            Integer.toUnsignedLong(
                Hashing.murmur3_32().hashIntToInt(Integer.reverseBytes(a.hashCode()))))
        .isEqualTo(RendezvousHash.keyHash(a.getAddress()));
  }

  @Test
  void everyPeer_mapsKeysIntoRangeAndUsesEveryBackend() {
    List<String> ids = Fixtures.ids(16);
    List<Peers.Peer> peers =
        List.of(
            Peers.guavaJump(16),
            Peers.hash4jJumpBack(16),
            Peers.ketamaTreeMap(ids),
            Peers.ketamaArray(ids));
    for (Peers.Peer p : peers) {
      boolean[] used = new boolean[16];
      for (byte[] k : KEYS) {
        int b = p.bucket(k);
        assertThat(b).isBetween(0, 15);
        used[b] = true;
      }
      assertThat(used).containsOnly(true);
    }
  }

  @Test
  void ketamaTreeMapAndArray_agreeOnEveryKey() {
    List<String> ids = Fixtures.ids(100);
    Peers.Peer tree = Peers.ketamaTreeMap(ids);
    Peers.Peer array = Peers.ketamaArray(ids);
    for (byte[] k : KEYS) {
      assertThat(array.bucket(k)).isEqualTo(tree.bucket(k));
    }
  }

  @Test
  void jumpHashes_moveOnlyToTheNewBucketWhenOneIsAdded() {
    Peers.Peer before = Peers.guavaJump(10);
    Peers.Peer after = Peers.guavaJump(11);
    Peers.Peer before4j = Peers.hash4jJumpBack(10);
    Peers.Peer after4j = Peers.hash4jJumpBack(11);
    for (byte[] k : KEYS) {
      int b = after.bucket(k);
      assertThat(b == 10 || b == before.bucket(k)).isTrue();
      int c = after4j.bucket(k);
      assertThat(c == 10 || c == before4j.bucket(k)).isTrue();
    }
  }
}

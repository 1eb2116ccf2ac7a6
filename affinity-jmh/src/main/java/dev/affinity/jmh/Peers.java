package dev.affinity.jmh;

import com.dynatrace.hash4j.consistent.ConsistentBucketHasher;
import com.dynatrace.hash4j.consistent.ConsistentHashing;
import com.dynatrace.hash4j.hashing.Hasher64;
import com.dynatrace.hash4j.random.PseudoRandomGeneratorProvider;
import com.google.common.hash.HashFunction;
import com.google.common.hash.Hashing;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The peer consistent hashes, each used the way its users use it: a bucket index into the backend
 * list for the jump hashes, a ring of 160 points per backend for ketama. All map key bytes to an
 * index into {@link Fixtures#ids}; the simulator and the benchmarks share them.
 */
final class Peers {
  static final int KETAMA_POINTS = 160;
  private static final HashFunction MURMUR3_32 = Hashing.murmur3_32_fixed();
  private static final Hasher64 KOMIHASH = com.dynatrace.hash4j.hashing.Hashing.komihash5_0();
  private static final ConsistentBucketHasher JUMP_BACK =
      ConsistentHashing.jumpBackHash(PseudoRandomGeneratorProvider.splitMix64_V1());

  private Peers() {}

  /** A key-bytes-to-backend-index function over a fixed backend list. */
  interface Peer {
    int bucket(byte[] key);
  }

  /**
   * Guava's jump consistent hash over the list index, what Armeria's sticky strategy does; the key
   * hash is MurmurHash3 x86_32, the same as the core's.
   */
  static Peer guavaJump(int n) {
    return key -> Hashing.consistentHash(MURMUR3_32.hashBytes(key), n);
  }

  /** hash4j's JumpBackHash (Ertl 2024) over komihash 5.0, hash4j's recommended 64-bit hash. */
  static Peer hash4jJumpBack(int n) {
    return key -> JUMP_BACK.getBucket(KOMIHASH.hashBytesToLong(key), n);
  }

  /** The ring: 160 points per backend at murmur3_32("id-i"), key at murmur3_32(key bytes). */
  private static NavigableMap<Long, Integer> ring(List<String> ids) {
    TreeMap<Long, Integer> ring = new TreeMap<>();
    for (int b = 0; b < ids.size(); b++) {
      for (int p = 0; p < KETAMA_POINTS; p++) {
        long point = unsigned(MURMUR3_32.hashString(ids.get(b) + "-" + p, StandardCharsets.UTF_8));
        ring.putIfAbsent(point, b); // a rare collision keeps the first owner, as libketama does
      }
    }
    return ring;
  }

  /**
   * Ketama with a {@link TreeMap} ceiling lookup, as Dubbo's and many Java clients' rings do.
   * libketama uses MD5 for points and keys; murmur3 here keeps the hash cost equal to the core's so
   * that only the lookup structure differs (MD5 would be slower still).
   */
  static Peer ketamaTreeMap(List<String> ids) {
    NavigableMap<Long, Integer> ring = ring(ids);
    return key -> {
      Map.Entry<Long, Integer> e = ring.ceilingEntry(unsigned(MURMUR3_32.hashBytes(key)));
      return (e != null ? e : ring.firstEntry()).getValue();
    };
  }

  /** Ketama over a sorted array with binary search, as NGINX's and Envoy's ring hashes do. */
  static Peer ketamaArray(List<String> ids) {
    NavigableMap<Long, Integer> ring = ring(ids);
    long[] points = new long[ring.size()];
    int[] owners = new int[ring.size()];
    int i = 0;
    for (Map.Entry<Long, Integer> e : ring.entrySet()) {
      points[i] = e.getKey();
      owners[i++] = e.getValue();
    }
    return key -> {
      int at = Arrays.binarySearch(points, unsigned(MURMUR3_32.hashBytes(key)));
      if (at < 0) {
        at = -at - 1;
      }
      return owners[at == points.length ? 0 : at];
    };
  }

  private static long unsigned(com.google.common.hash.HashCode h) {
    return Integer.toUnsignedLong(h.asInt());
  }
}

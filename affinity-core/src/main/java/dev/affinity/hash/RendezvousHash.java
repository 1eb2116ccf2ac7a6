package dev.affinity.hash;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.google.common.hash.HashFunction;
import com.google.common.hash.Hashing;
import java.util.Collection;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The pinned rendezvous (highest random weight) hash that every hash strategy routes with.
 *
 * <p><b>Its output is API.</b> Independent proxy instances, and implementations in other languages,
 * agree on owners only if they compute exactly this; changing it is a breaking change. The
 * definition, with golden vectors in {@code docs/hashing.md}:
 *
 * <ol>
 *   <li>{@code keyHash} = MurmurHash3 x86 32-bit, seed 0, of the key bytes, as an unsigned 32-bit
 *       number. Text keys are UTF-8; client IP keys are the 4 (IPv4) or 16 (IPv6) address bytes in
 *       network order, after IPv4-mapped IPv6 is unmapped and any prefix grouping is applied.
 *   <li>{@code idHash} = the same function of the backend id's UTF-8 bytes.
 *   <li>{@code score} = MurmurHash3's {@code fmix64} of {@code (keyHash << 32) | idHash}, as an
 *       unsigned 64-bit number. Being a bijection, it gives distinct (key, backend) pairs distinct
 *       scores.
 *   <li>Unweighted (all candidate weights equal): the owner is the candidate with the highest
 *       score. Weighted: the owner has the highest {@code weight / -ln(u)} with {@code u = ((score
 *       >>> 11) + 0.5) / 2^53}, which gives each backend a share proportional to its weight
 *       (Schindelhauer and Schomaker's logarithmic method). Ties, which need equal scores, go to
 *       the smaller id.
 * </ol>
 *
 * <p>Because a backend's score depends only on the key and its own id, removing a backend moves
 * only the keys it owned and adding one moves keys only to it.
 */
public final class RendezvousHash {
  private static final HashFunction MURMUR3_32 = Hashing.murmur3_32_fixed();
  private static final double TWO_POW_MINUS_53 = 0x1.0p-53;

  private RendezvousHash() {}

  /** The key hash of a text key: unsigned MurmurHash3 x86 32 of its UTF-8 bytes. */
  public static long keyHash(CharSequence key) {
    requireNonNull(key, "key");
    return Integer.toUnsignedLong(MURMUR3_32.hashString(key, UTF_8).asInt());
  }

  /** The key hash of raw key bytes (client IP keys use the address bytes). */
  public static long keyHash(byte[] key) {
    requireNonNull(key, "key");
    return Integer.toUnsignedLong(MURMUR3_32.hashBytes(key).asInt());
  }

  /**
   * The key hash of an IPv4 address given as the big-endian int {@code Inet4Address.hashCode()}
   * returns; equal to {@link #keyHash(byte[])} of its four bytes, without allocating them.
   */
  public static long keyHashIpv4(int address) {
    return Integer.toUnsignedLong(MURMUR3_32.hashInt(Integer.reverseBytes(address)).asInt());
  }

  /** The id hash of a backend id. */
  public static long idHash(String backendId) {
    return keyHash(backendId);
  }

  /** The score of a (key, backend) pair; compare scores as unsigned. */
  public static long score(long keyHash, long idHash) {
    return fmix64((keyHash << 32) | (idHash & 0xffff_ffffL));
  }

  /**
   * The index of the candidate with the highest {@linkplain #score score} for {@code keyHash} (the
   * unweighted owner), the first one on equal scores. Equal to comparing {@link #score} of each
   * candidate as unsigned numbers, with fmix64's first step folded into the operands: it only folds
   * the key's top 31 bits into the id's half, so it is applied once per key instead of once per
   * candidate.
   *
   * @param keyHash an unsigned 32-bit key hash ({@link #keyHash})
   * @param idHashes the candidates' {@linkplain #idHash id hashes}, each below 2<sup>32</sup>; not
   *     empty
   * @throws IndexOutOfBoundsException if {@code idHashes} is empty
   */
  public static int highestScore(long keyHash, long[] idHashes) {
    long hi = keyHash << 32;
    long lo = (keyHash & 0xffff_ffffL) >>> 1;
    int best = 0;
    // Unsigned comparison by flipping the sign bit once per score.
    long bestScore = fmix64Tail(hi | (idHashes[0] ^ lo)) ^ Long.MIN_VALUE;
    for (int i = 1; i < idHashes.length; i++) {
      long s = fmix64Tail(hi | (idHashes[i] ^ lo)) ^ Long.MIN_VALUE;
      if (s > bestScore) {
        bestScore = s;
        best = i;
      }
    }
    return best;
  }

  /** The weighted score {@code weight / -ln(u)} of a pair; higher wins. */
  public static double weightedScore(long score, double weight) {
    return weight / -Math.log(uniform(score));
  }

  /**
   * {@code u = ((score >>> 11) + 0.5) / 2^53}, strictly between 0 and 1: the uniform variate the
   * weighted rule takes the logarithm of.
   */
  public static double uniform(long score) {
    return ((score >>> 11) + 0.5) * TWO_POW_MINUS_53;
  }

  /**
   * The owner of a text key among backend ids, all weights equal: a reference implementation for
   * agreement checks, not the hot path.
   *
   * @return the owning id, or null if {@code backendIds} is empty
   */
  public static @Nullable String owner(String key, Collection<String> backendIds) {
    long k = keyHash(key);
    String best = null;
    long bestScore = 0;
    for (String id : backendIds) {
      long s = score(k, idHash(id));
      if (best == null
          || Long.compareUnsigned(s, bestScore) > 0
          || (s == bestScore && id.compareTo(best) < 0)) {
        best = id;
        bestScore = s;
      }
    }
    return best;
  }

  /**
   * The owner of a text key among weighted backends, applying the weighted rule when the weights
   * differ and the unweighted rule when they are all equal.
   *
   * @param weights backend id to weight (every weight at least 1)
   * @return the owning id, or null if {@code weights} is empty
   */
  public static @Nullable String owner(String key, Map<String, Integer> weights) {
    if (weights.values().stream().distinct().count() <= 1) {
      return owner(key, weights.keySet());
    }
    long k = keyHash(key);
    String best = null;
    double bestScore = -1;
    for (Map.Entry<String, Integer> e : weights.entrySet()) {
      double s = weightedScore(score(k, idHash(e.getKey())), e.getValue());
      if (best == null || s > bestScore || (s == bestScore && e.getKey().compareTo(best) < 0)) {
        best = e.getKey();
        bestScore = s;
      }
    }
    return best;
  }

  /** MurmurHash3's 64-bit finalizer: a bijective avalanche mix. */
  public static long fmix64(long k) {
    return fmix64Tail(k ^ (k >>> 33));
  }

  /**
   * {@link #fmix64} after its first step. For 32-bit {@code keyHash} and {@code idHash}, {@code
   * score(keyHash, idHash) == fmix64Tail((keyHash << 32) | (idHash ^ (keyHash >>> 1)))}: the first
   * step only folds the key's top 31 bits into the id's half, so a scan over members with one key
   * can apply it to the operands.
   */
  static long fmix64Tail(long k) {
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb9fe1a85ec53L;
    k ^= k >>> 33;
    return k;
  }
}

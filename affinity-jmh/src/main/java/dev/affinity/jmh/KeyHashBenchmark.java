package dev.affinity.jmh;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.dynatrace.hash4j.hashing.Hasher32;
import com.dynatrace.hash4j.hashing.Hasher64;
import com.google.common.hash.HashFunction;
import com.google.common.hash.Hashing;
import dev.affinity.hash.RendezvousHash;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The key hash alone: the pinned function as the core calls it ({@link RendezvousHash}), the same
 * MurmurHash3 x86_32 from Guava and from hash4j (identical output), and 64/128-bit alternatives
 * that would change every owner. Inputs: IPv4 (4 bytes; the core hashes the address int without an
 * array), IPv6 (16 bytes), and a text key of about 20 characters (a user id header or JWT claim).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class KeyHashBenchmark {
  private static final HashFunction GUAVA_32 = Hashing.murmur3_32_fixed();
  private static final HashFunction GUAVA_128 = Hashing.murmur3_128();
  private static final Hasher32 HASH4J_32 = com.dynatrace.hash4j.hashing.Hashing.murmur3_32();
  private static final Hasher64 KOMIHASH = com.dynatrace.hash4j.hashing.Hashing.komihash5_0();
  private static final Hasher64 XXH3 = com.dynatrace.hash4j.hashing.Hashing.xxh3_64();

  @Param({"ipv4", "ipv6", "text"})
  public String input;

  private int kind;
  private byte[][] bytes;
  private int[] ints;
  private String[] texts;
  private int cursor;

  @Setup(Level.Trial)
  public void setUp() {
    kind = input.equals("ipv4") ? 0 : input.equals("ipv6") ? 1 : 2;
    InetAddress[] a = Fixtures.addresses(kind == 1 ? "ipv6" : "ipv4", 7);
    bytes = Fixtures.keyBytes(a);
    ints = new int[a.length];
    texts = new String[a.length];
    for (int i = 0; i < a.length; i++) {
      ints[i] = a[i].hashCode(); // Inet4Address: the address, big-endian
      texts[i] = "user-" + Integer.toHexString(ints[i]) + "-" + (100_000 + i);
    }
  }

  /** The pinned hash through the core's own entry points. */
  @Benchmark
  public long corePinned() {
    int i = cursor++ & Fixtures.MASK;
    switch (kind) {
      case 0:
        return RendezvousHash.keyHashIpv4(ints[i]);
      case 1:
        return RendezvousHash.keyHash(bytes[i]);
      default:
        return RendezvousHash.keyHash(texts[i]);
    }
  }

  /** Guava's murmur3_32_fixed on the key bytes (text: its UTF-8 string path). */
  @Benchmark
  public long guavaMurmur3_32() {
    int i = cursor++ & Fixtures.MASK;
    return kind == 2
        ? GUAVA_32.hashString(texts[i], UTF_8).asInt()
        : GUAVA_32.hashBytes(bytes[i]).asInt();
  }

  /** hash4j's murmur3_32: same output as the pinned hash (text must be encoded to UTF-8 first). */
  @Benchmark
  public long hash4jMurmur3_32() {
    int i = cursor++ & Fixtures.MASK;
    switch (kind) {
      case 0:
        return HASH4J_32.hashIntToInt(Integer.reverseBytes(ints[i]));
      case 1:
        return HASH4J_32.hashBytesToInt(bytes[i]);
      default:
        return HASH4J_32.hashBytesToInt(texts[i].getBytes(UTF_8));
    }
  }

  /** Guava's murmur3_128, first 64 bits: a different (breaking) function. */
  @Benchmark
  public long guavaMurmur3_128() {
    int i = cursor++ & Fixtures.MASK;
    return kind == 2
        ? GUAVA_128.hashString(texts[i], UTF_8).asLong()
        : GUAVA_128.hashBytes(bytes[i]).asLong();
  }

  /**
   * hash4j's komihash 5.0 (text hashed as UTF-16 chars, which no other language does by default).
   */
  @Benchmark
  public long hash4jKomihash5() {
    int i = cursor++ & Fixtures.MASK;
    return kind == 2 ? KOMIHASH.hashCharsToLong(texts[i]) : KOMIHASH.hashBytesToLong(bytes[i]);
  }

  /** hash4j's XXH3-64 (text as UTF-16 chars). */
  @Benchmark
  public long hash4jXxh3() {
    int i = cursor++ & Fixtures.MASK;
    return kind == 2 ? XXH3.hashCharsToLong(texts[i]) : XXH3.hashBytesToLong(bytes[i]);
  }
}

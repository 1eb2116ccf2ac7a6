package dev.affinity.testkit;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * RFC 6455 frames for the tests of the frame tracker and of the adapters' relays: one encoder, so
 * the core tests and both adapters' tests cut the same streams.
 */
public final class TestFrames {
  private TestFrames() {}

  /**
   * A binary frame with FIN set and {@code size} random payload bytes, in the shortest length form
   * (7-bit, 16-bit or 64-bit), masked with a random key when {@code masked}.
   */
  public static byte[] binary(int size, boolean masked, Random random) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0x82);
    int mask = masked ? 0x80 : 0;
    if (size < 126) {
      out.write(mask | size);
    } else if (size < 65_536) {
      out.write(mask | 126);
      out.write(size >>> 8);
      out.write(size);
    } else {
      out.write(mask | 127);
      for (int k = 7; k >= 0; k--) {
        out.write((int) ((long) size >>> (8 * k)));
      }
    }
    if (masked) {
      byte[] key = new byte[4];
      random.nextBytes(key);
      out.writeBytes(key);
    }
    byte[] payload = new byte[size];
    random.nextBytes(payload);
    out.writeBytes(payload);
    return out.toByteArray();
  }

  /**
   * {@code rounds} rounds of one {@link #binary} frame per size in {@code sizes}, each masked or
   * not at random, back to back.
   */
  public static Stream stream(Random random, int rounds, int... sizes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    List<Integer> ends = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      for (int size : sizes) {
        out.writeBytes(binary(size, random.nextBoolean(), random));
        ends.add(out.size());
      }
    }
    return new Stream(out.toByteArray(), List.copyOf(ends));
  }

  /**
   * Frames back to back: their bytes, and the offset just past each frame.
   *
   * @param bytes the frames
   * @param ends where each frame ends, in order
   */
  public record Stream(byte[] bytes, List<Integer> ends) {}
}

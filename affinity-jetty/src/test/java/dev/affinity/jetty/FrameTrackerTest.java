package dev.affinity.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.internal.WebSocketFrameTracker;
import dev.affinity.testkit.TestFrames;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FrameTrackerTest {
  /** Frames of every length encoding (7-bit, 16-bit, 64-bit), masked and not, back to back. */
  @Test
  void advance_findsEveryFrameEnd_howeverTheStreamIsCut() {
    Random random = new Random(42);
    TestFrames.Stream stream =
        TestFrames.stream(random, 3, 0, 1, 125, 126, 127, 300, 65_535, 65_536, 70_000);
    byte[] all = stream.bytes();
    List<Integer> ends = stream.ends();
    for (int trial = 0; trial < 50; trial++) {
      WebSocketFrameTracker tracker = new WebSocketFrameTracker();
      List<Integer> found = new ArrayList<>();
      int at = 0;
      while (at < all.length) {
        int chunk = 1 + random.nextInt(trial % 2 == 0 ? 7 : 20_000);
        ByteBuffer bytes = ByteBuffer.wrap(all, at, Math.min(chunk, all.length - at));
        while (bytes.hasRemaining()) {
          int boundary = advance(tracker, bytes, true);
          if (boundary < 0) {
            break;
          }
          if (boundary == bytes.position()) {
            // already at a boundary: step over one byte of the next frame without stopping
            ByteBuffer one = bytes.duplicate();
            one.limit(bytes.position() + 1);
            assertThat(advance(tracker, one, false)).isEqualTo(-1);
            bytes.position(bytes.position() + 1);
            continue;
          }
          found.add(boundary);
          bytes.position(boundary);
        }
        at += chunk;
      }
      assertThat(tracker.atBoundary()).isTrue();
      assertThat(found).as("trial %d", trial).isEqualTo(ends.subList(0, found.size()));
      assertThat(found).hasSameSizeAs(ends.stream().filter(e -> e > 0).distinct().toList());
    }
  }

  @Test
  void advance_withoutStopping_passesEverything() {
    WebSocketFrameTracker tracker = new WebSocketFrameTracker();
    ByteBuffer two =
        ByteBuffer.wrap(
            concat(
                TestFrames.binary(5, false, new Random(1)),
                TestFrames.binary(3, true, new Random(2))));
    two.limit(two.capacity() - 1);
    assertThat(advance(tracker, two, false)).isEqualTo(-1);
    assertThat(two.position()).as("the buffer is not moved").isZero();
    assertThat(tracker.atBoundary()).as("one payload byte missing").isFalse();
    ByteBuffer last = ByteBuffer.wrap(new byte[] {9});
    assertThat(advance(tracker, last, true)).isEqualTo(1);
    assertThat(tracker.atBoundary()).isTrue();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static int advance(WebSocketFrameTracker tracker, ByteBuffer bytes, boolean stop) {
    return tracker.advance(bytes::get, bytes.position(), bytes.limit(), stop);
  }
}

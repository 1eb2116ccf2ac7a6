package dev.affinity.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.testkit.TestFrames;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WebSocketFrameTrackerTest {
  @Test
  void everyFrameEnd_isFound_forEveryLengthForm_maskedOrNot() {
    Random random = new Random(7);
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    List<Integer> ends = new ArrayList<>();
    // 7-bit, 16-bit and 64-bit length forms, empty frames, masked and unmasked.
    for (int size : new int[] {0, 1, 125, 126, 127, 65_535, 65_536, 70_000, 3}) {
      for (boolean masked : new boolean[] {false, true}) {
        stream.writeBytes(TestFrames.binary(size, masked, random));
        ends.add(stream.size());
      }
    }
    byte[] bytes = stream.toByteArray();
    WebSocketFrameTracker tracker = new WebSocketFrameTracker();
    List<Integer> found = new ArrayList<>();
    int i = 0;
    while (i < bytes.length) {
      int n = tracker.passPayload(bytes.length - i);
      if (n > 0) {
        i += n;
      } else {
        tracker.headerByte(bytes[i++]);
      }
      if (tracker.atBoundary()) {
        found.add(i);
      }
    }
    assertThat(found).isEqualTo(ends);
  }

  @Test
  void notAtBoundary_insideAHeaderOrAPayload() {
    WebSocketFrameTracker tracker = new WebSocketFrameTracker();
    assertThat(tracker.atBoundary()).isTrue();
    tracker.headerByte((byte) 0x82);
    assertThat(tracker.atBoundary()).as("after one header byte").isFalse();
    tracker.headerByte((byte) 5);
    assertThat(tracker.atBoundary()).as("payload of 5 pending").isFalse();
    assertThat(tracker.passPayload(3)).isEqualTo(3);
    assertThat(tracker.atBoundary()).isFalse();
    assertThat(tracker.passPayload(100)).isEqualTo(2);
    assertThat(tracker.atBoundary()).isTrue();
    assertThat(tracker.passPayload(100)).as("next byte is a header byte").isZero();
  }

  /**
   * {@link WebSocketFrameTracker#advance}, as both adapters call it (over a Netty {@code ByteBuf}
   * or a Jetty {@code ByteBuffer}, here over an array window), finds every frame end of a stream of
   * every length form, masked and not, however the stream is cut into reads.
   */
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
        int end = Math.min(all.length, at + 1 + random.nextInt(trial % 2 == 0 ? 7 : 20_000));
        int pos = at;
        while (pos < end) {
          int boundary = tracker.advance(i -> all[i], pos, end, true);
          if (boundary < 0) {
            break;
          }
          if (boundary == pos) {
            // already at a boundary: step over one byte of the next frame without stopping
            assertThat(tracker.advance(i -> all[i], pos, pos + 1, false)).isEqualTo(-1);
            pos++;
            continue;
          }
          found.add(boundary);
          pos = boundary;
        }
        at = end;
      }
      assertThat(tracker.atBoundary()).isTrue();
      assertThat(found).as("trial %d", trial).isEqualTo(ends.subList(0, found.size()));
      assertThat(found).hasSameSizeAs(ends.stream().filter(e -> e > 0).distinct().toList());
    }
  }

  @Test
  void advance_withoutStopping_passesEverything_andStopsOnlyWhereAsked() {
    WebSocketFrameTracker tracker = new WebSocketFrameTracker();
    ByteArrayOutputStream two = new ByteArrayOutputStream();
    two.writeBytes(TestFrames.binary(5, false, new Random(1)));
    two.writeBytes(TestFrames.binary(3, true, new Random(2)));
    byte[] bytes = two.toByteArray();
    assertThat(tracker.advance(i -> bytes[i], 0, bytes.length - 1, false)).isEqualTo(-1);
    assertThat(tracker.atBoundary()).as("one payload byte missing").isFalse();
    assertThat(tracker.advance(i -> bytes[i], bytes.length - 1, bytes.length, true))
        .isEqualTo(bytes.length);
    assertThat(tracker.atBoundary()).isTrue();
  }

  @Test
  void advance_notAtBoundary_insideAnExtendedLengthOrAPayload() {
    WebSocketFrameTracker tracker = new WebSocketFrameTracker();
    byte[] f = TestFrames.binary(300, false, new Random(1));
    tracker.advance(i -> f[i], 0, 3, false); // inside the 16-bit extended length
    assertThat(tracker.atBoundary()).isFalse();
    tracker.advance(i -> f[i], 3, 103, false);
    assertThat(tracker.atBoundary()).isFalse();
    tracker.advance(i -> f[i], 103, f.length, false);
    assertThat(tracker.atBoundary()).isTrue();
  }

  @Test
  void closeFrame_carriesCodeAndReason_cutAtACharacterBoundary() {
    byte[] f = WebSocketFrameTracker.closeFrame(1012, "rebalancing");
    assertThat(f[0] & 0xff).isEqualTo(0x88);
    assertThat(f[1]).isEqualTo((byte) (2 + 11));
    assertThat(((f[2] & 0xff) << 8) | (f[3] & 0xff)).isEqualTo(1012);
    assertThat(new String(f, 4, f.length - 4, StandardCharsets.UTF_8)).isEqualTo("rebalancing");

    assertThat(WebSocketFrameTracker.closeFrame(1001, "x".repeat(500))).hasSize(4 + 123);
    byte[] cut = WebSocketFrameTracker.closeFrame(1001, "é".repeat(100)); // 200 bytes
    assertThat(cut.length - 4).isEqualTo(122);
    assertThat(new String(cut, 4, cut.length - 4, StandardCharsets.UTF_8))
        .isEqualTo("é".repeat(61));
  }
}

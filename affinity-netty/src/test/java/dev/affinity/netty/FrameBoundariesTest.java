package dev.affinity.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.internal.WebSocketFrameTracker;
import dev.affinity.testkit.TestFrames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link WebSocketFrameTracker#advance} over a {@link io.netty.buffer.ByteBuf} finds every frame
 * end of a stream, however the stream is cut.
 */
@ExtendWith(LeakCheck.class)
class FrameBoundariesTest {
  private static final int[] SIZES = {0, 1, 125, 126, 127, 65535, 65536, 70000};

  @Test
  void everyFrameEnd_isFound_forRandomCuts() {
    Random random = new Random(7);
    TestFrames.Stream stream = TestFrames.stream(random, 3, SIZES);
    byte[] all = stream.bytes();
    List<Integer> ends = stream.ends();
    for (int trial = 0; trial < 50; trial++) {
      WebSocketFrameTracker frames = new WebSocketFrameTracker();
      List<Integer> found = new ArrayList<>();
      int pos = 0;
      while (pos < all.length) {
        int cut = Math.min(all.length - pos, 1 + random.nextInt(trial % 2 == 0 ? 7 : 100_000));
        ByteBuf chunk = Unpooled.wrappedBuffer(all, pos, cut);
        while (chunk.isReadable()) {
          int at = advance(frames, chunk, true);
          if (at < 0) {
            break;
          }
          if (at == chunk.readerIndex()) { // at a boundary already: pass one header byte
            advance(frames, chunk.slice(chunk.readerIndex(), 1), false);
            chunk.skipBytes(1);
            continue;
          }
          found.add(pos + at); // the chunk's indexes start at 0
          chunk.readerIndex(at);
        }
        pos += cut;
      }
      assertThat(frames.atBoundary()).isTrue();
      assertThat(found).as("trial %d", trial).isEqualTo(ends);
    }
  }

  @Test
  void notAtBoundary_inTheMiddleOfAHeaderOrAPayload() {
    WebSocketFrameTracker frames = new WebSocketFrameTracker();
    assertThat(frames.atBoundary()).isTrue();
    byte[] f = TestFrames.binary(300, false, new Random(1));
    advance(frames, Unpooled.wrappedBuffer(f, 0, 3), false); // inside the extended length
    assertThat(frames.atBoundary()).isFalse();
    advance(frames, Unpooled.wrappedBuffer(f, 3, 100), false);
    assertThat(frames.atBoundary()).isFalse();
    advance(frames, Unpooled.wrappedBuffer(f, 103, f.length - 103), false);
    assertThat(frames.atBoundary()).isTrue();
  }

  private static int advance(WebSocketFrameTracker frames, ByteBuf buf, boolean stop) {
    return frames.advance(buf::getByte, buf.readerIndex(), buf.writerIndex(), stop);
  }
}

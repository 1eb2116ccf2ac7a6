package dev.affinity.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The leak check itself can fail: a buffer dropped without release is reported and recorded. */
class LeakCheckTest {
  @AfterEach
  void forgetTheDeliberateLeak() {
    RecordingLeakDetector.LEAKS.clear();
  }

  @Test
  void droppedBuffer_isReportedToTheRecordingDetector() throws InterruptedException {
    RecordingLeakDetector.LEAKS.clear();
    leak();
    for (int i = 0; i < 50 && RecordingLeakDetector.LEAKS.isEmpty(); i++) {
      System.gc();
      Thread.sleep(20);
      for (int j = 0; j < 10; j++) {
        PooledByteBufAllocator.DEFAULT.buffer(8).release(); // the detector polls on track
      }
    }
    assertThat(RecordingLeakDetector.LEAKS).isNotEmpty();
  }

  private static void leak() {
    ByteBuf lost = PooledByteBufAllocator.DEFAULT.buffer(32);
    lost.writeInt(42);
  }
}

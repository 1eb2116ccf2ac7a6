package dev.affinity.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class if Netty reported a leaked buffer while it ran. Requires PARANOID leak
 * detection through {@link RecordingLeakDetector} (the module's surefire configuration sets both)
 * and checks that they are really in effect, so the check cannot pass by being switched off.
 */
public final class LeakCheck implements BeforeAllCallback, AfterAllCallback {
  @Override
  public void beforeAll(ExtensionContext context) {
    assertThat(ResourceLeakDetector.getLevel())
        .as("run with -Dio.netty.leakDetection.level=paranoid")
        .isEqualTo(ResourceLeakDetector.Level.PARANOID);
    PooledByteBufAllocator.DEFAULT.buffer(1).release(); // creates the detector if not yet there
    assertThat(RecordingLeakDetector.INSTANCES.get())
        .as(
            "run with -Dio.netty.customResourceLeakDetector="
                + RecordingLeakDetector.class.getName())
        .isPositive();
    RecordingLeakDetector.LEAKS.clear();
  }

  @Override
  public void afterAll(ExtensionContext context) throws InterruptedException {
    // Leaks are found when a lost buffer is collected and the detector next tracks a buffer.
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(50);
      for (int j = 0; j < 100; j++) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer(16);
        b.release();
        UnpooledByteBufAllocator.DEFAULT.buffer(16).release();
      }
    }
    assertThat(RecordingLeakDetector.LEAKS).as("buffers leaked during the tests").isEmpty();
  }
}

package dev.affinity.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.testkit.Await;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class if Netty reported a leaked buffer while it ran. Requires PARANOID leak
 * detection through {@link RecordingLeakDetector} (the module's surefire configuration sets both)
 * and checks that they are really in effect, so the check cannot pass by being switched off.
 *
 * <p>Netty reports a leak only after the lost buffer is garbage collected, and only when the
 * detector next tracks a buffer, so a leak can surface long after the test that caused it. To pin
 * every leak on the test that caused it, the detector is {@linkplain #drain() drained} after each
 * test and before and after each class: a sentinel buffer is dropped and garbage is collected until
 * the detector has reported that sentinel, which proves that a collection and the detector's queue
 * poll happened after everything the test dropped. A buffer still reachable from the test instance
 * (JUnit drops it only after this extension's {@code afterEach}) surfaces at the next drain. A leak
 * found before a class starts fails that class's {@code beforeAll}, naming it an earlier class's.
 */
public final class LeakCheck implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {
  /** The hint that marks the sentinel buffers of {@link #drain()}. */
  static final String SENTINEL = "LeakCheck sentinel #";

  private static final AtomicInteger SENTINELS = new AtomicInteger();
  private static final long DRAIN_TIMEOUT_SECONDS = 60;

  @Override
  public void beforeAll(ExtensionContext context) throws InterruptedException {
    assertThat(ResourceLeakDetector.getLevel())
        .as("run with -Dio.netty.leakDetection.level=paranoid")
        .isEqualTo(ResourceLeakDetector.Level.PARANOID);
    PooledByteBufAllocator.DEFAULT.buffer(1).release(); // creates the detector if not yet there
    assertThat(RecordingLeakDetector.INSTANCES.get())
        .as(
            "run with -Dio.netty.customResourceLeakDetector="
                + RecordingLeakDetector.class.getName())
        .isPositive();
    assertThat(drain())
        .as(
            "buffers leaked before %s started (by an earlier test class without LeakCheck)",
            context.getDisplayName())
        .isEmpty();
  }

  @Override
  public void afterEach(ExtensionContext context) throws InterruptedException {
    assertThat(drain()).as("buffers leaked during %s", context.getDisplayName()).isEmpty();
  }

  @Override
  public void afterAll(ExtensionContext context) throws InterruptedException {
    assertThat(drain()).as("buffers leaked during %s", context.getDisplayName()).isEmpty();
  }

  /**
   * Returns and forgets every leak reported so far, after making sure that every buffer lost before
   * this call has been collected and reported: drops a sentinel buffer, then collects garbage and
   * lets the detector poll until the sentinel's own report arrives (one more round after it, for
   * references enqueued together with it).
   *
   * @throws AssertionError if the sentinel is not reported within a minute (leak detection broken)
   */
  static List<String> drain() throws InterruptedException {
    String hint = SENTINEL + SENTINELS.incrementAndGet() + "#";
    dropSentinel(hint);
    // Each poll collects garbage and allocates (the detector reports on allocation). Once the
    // sentinel is reported, two more polls let leaks collected alongside it be reported too.
    AtomicInteger roundsAfterSeen = new AtomicInteger(-1);
    Await.until(
        "the leak detector reports a dropped sentinel buffer (" + hint + ")",
        Duration.ofSeconds(DRAIN_TIMEOUT_SECONDS),
        () -> {
          System.gc();
          PooledByteBufAllocator.DEFAULT.directBuffer(1).release(); // the detector polls on track
          if (roundsAfterSeen.get() >= 0) {
            return roundsAfterSeen.incrementAndGet() > 2;
          }
          if (RecordingLeakDetector.LEAKS.stream().anyMatch(l -> l.contains(hint))) {
            roundsAfterSeen.set(0);
          }
          return false;
        });
    List<String> reported = List.copyOf(RecordingLeakDetector.LEAKS);
    RecordingLeakDetector.LEAKS.removeAll(reported);
    List<String> leaks = new ArrayList<>();
    for (String l : reported) {
      if (!l.contains(SENTINEL)) {
        leaks.add(l);
      }
    }
    return leaks;
  }

  private static void dropSentinel(String hint) {
    PooledByteBufAllocator.DEFAULT.directBuffer(1).touch(hint); // lost on purpose
  }
}

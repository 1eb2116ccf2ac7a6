package dev.affinity.netty;

import io.netty.util.ResourceLeakDetector;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Netty's leak detector, recording every leak it reports so {@link LeakCheck} can fail the build.
 * Installed with {@code
 * -Dio.netty.customResourceLeakDetector=dev.affinity.netty.RecordingLeakDetector} (see this
 * module's surefire configuration), so it is in place before the first buffer exists.
 */
public final class RecordingLeakDetector<T> extends ResourceLeakDetector<T> {
  static final List<String> LEAKS = new CopyOnWriteArrayList<>();
  static final AtomicInteger INSTANCES = new AtomicInteger();

  /** Called reflectively by Netty's detector factory. */
  public RecordingLeakDetector(Class<?> resourceType, int samplingInterval) {
    super(resourceType, samplingInterval);
    INSTANCES.incrementAndGet();
  }

  /** The constructor Netty's factory looks for first; the limit it passes is unused by Netty. */
  public RecordingLeakDetector(Class<?> resourceType, int samplingInterval, long maxActive) {
    this(resourceType, samplingInterval);
  }

  @Override
  protected void reportTracedLeak(String resourceType, String records) {
    LEAKS.add(resourceType + " leaked:" + records);
    if (!records.contains(LeakCheck.SENTINEL)) { // LeakCheck's own, dropped on purpose
      super.reportTracedLeak(resourceType, records); // logs the access records
    }
  }

  @Override
  protected void reportUntracedLeak(String resourceType) {
    LEAKS.add(resourceType + " leaked (untraced)");
    super.reportUntracedLeak(resourceType);
  }
}

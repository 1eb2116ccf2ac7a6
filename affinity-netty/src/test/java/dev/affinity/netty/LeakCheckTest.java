package dev.affinity.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The leak check itself can fail: a buffer dropped without release is reported by the recording
 * detector, and {@link LeakCheck#drain()} returns it, with its access records, as soon as it
 * returns, so a leak is pinned on the class that caused it and never surfaces in a later one.
 */
@ExtendWith(LeakCheck.class)
class LeakCheckTest {
  @Test
  void droppedBuffer_isReturnedByTheNextDrain_withItsAccessRecords() throws InterruptedException {
    assertThat(LeakCheck.drain()).as("nothing leaked before").isEmpty();
    leak();
    List<String> leaks = LeakCheck.drain();
    assertThat(leaks).hasSize(1);
    assertThat(leaks.get(0)).contains("LeakCheckTest.leak", "deliberately lost");
    assertThat(LeakCheck.drain()).as("a drain forgets what it returned").isEmpty();
  }

  private static void leak() {
    ByteBuf lost = PooledByteBufAllocator.DEFAULT.buffer(32);
    lost.writeInt(42).touch("deliberately lost");
  }
}

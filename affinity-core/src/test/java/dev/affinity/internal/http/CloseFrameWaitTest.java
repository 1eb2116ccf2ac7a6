package dev.affinity.internal.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.internal.WebSocketFrameTracker;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CloseFrameWaitTest {
  /**
   * A timer that records what was scheduled and whether it was cancelled; nothing runs by itself.
   */
  private static final class RecordingTimer implements CloseFrameWait.Timer {
    final List<Long> delays = new ArrayList<>();
    final List<Runnable> tasks = new ArrayList<>();
    int cancels;

    @Override
    public Runnable schedule(Runnable task, long delayMillis) {
      delays.add(delayMillis);
      tasks.add(task);
      return () -> cancels++;
    }
  }

  @Test
  void begin_buildsTheFrame_andSchedulesTheCutFiveSecondsOut() {
    RecordingTimer timer = new RecordingTimer();
    int[] cuts = {0};
    CloseFrameWait wait = new CloseFrameWait();
    assertThat(wait.begun()).isFalse();
    assertThat(wait.frame()).isNull();

    assertThat(wait.begin(1001, "going away", timer, () -> cuts[0]++)).isTrue();

    assertThat(wait.begun()).isTrue();
    assertThat(wait.frame()).isEqualTo(WebSocketFrameTracker.closeFrame(1001, "going away"));
    assertThat(timer.delays).containsExactly(CloseFrameWait.MAX_WAIT_MILLIS);
    assertThat(CloseFrameWait.MAX_WAIT_MILLIS).isEqualTo(5_000);
    timer.tasks.get(0).run(); // the deadline passes: the adapter's cut runs
    assertThat(cuts[0]).isEqualTo(1);
  }

  @Test
  void begin_secondClose_isIgnored_theFirstCodeWins() {
    RecordingTimer timer = new RecordingTimer();
    CloseFrameWait wait = new CloseFrameWait();
    wait.begin(1012, "restart", timer, () -> {});
    assertThat(wait.begin(1001, "later", timer, () -> {})).isFalse();
    assertThat(wait.frame()).isEqualTo(WebSocketFrameTracker.closeFrame(1012, "restart"));
    assertThat(timer.delays).hasSize(1);
  }

  @Test
  void cancel_cancelsTheDeadlineOnce_andNothingIsPendingAfter() {
    RecordingTimer timer = new RecordingTimer();
    CloseFrameWait wait = new CloseFrameWait();
    wait.cancel(); // before any close: nothing to cancel
    assertThat(timer.cancels).isZero();
    CloseFrameWait begun = new CloseFrameWait();
    begun.begin(1000, "", timer, () -> {});
    begun.cancel();
    begun.cancel();
    assertThat(timer.cancels).isEqualTo(1);
    assertThat(begun.begun()).as("a begun close stays begun").isTrue();
  }

  @Test
  void begin_codeACloseFrameMayNotCarry_isRefused_andNothingIsScheduled() {
    RecordingTimer timer = new RecordingTimer();
    CloseFrameWait wait = new CloseFrameWait();
    for (int code : new int[] {999, 1005, 1006, 1015, 5000}) {
      assertThatThrownBy(() -> wait.begin(code, "x", timer, () -> {}))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("webSocketCode: " + code + " (expected: 1000..4999, not 1005, 1006 or 1015)");
    }
    assertThat(timer.delays).isEmpty();
    assertThat(wait.begun()).isFalse();
  }
}

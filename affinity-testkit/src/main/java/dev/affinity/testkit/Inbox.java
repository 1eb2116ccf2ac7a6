package dev.affinity.testkit;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Received messages and the close signal of one session; shared by the client wrappers. */
final class Inbox {
  private static final WsMessage CLOSED = WsMessage.text("<closed>");

  private final BlockingQueue<WsMessage> queue = new LinkedBlockingQueue<>();
  private final CountDownLatch closed = new CountDownLatch(1);
  private volatile String closeReason = "open";

  void add(WsMessage m) {
    queue.add(m);
  }

  void closed(String why) {
    if (closed.getCount() > 0) {
      closeReason = why;
      closed.countDown();
      queue.add(CLOSED);
    }
  }

  boolean isClosed() {
    return closed.getCount() == 0;
  }

  WsMessage next(Duration timeout) {
    WsMessage m;
    try {
      m = queue.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for a message", e);
    }
    if (m == null) {
      throw new AssertionError("no message within " + timeout);
    }
    if (m == CLOSED) {
      queue.add(CLOSED); // later calls fail the same way
      throw new AssertionError("session closed before the next message: " + closeReason);
    }
    return m;
  }

  boolean awaitClosed(Duration timeout) {
    try {
      return closed.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}

package dev.affinity.testkit;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Received messages and the close signal of one session, and the reassembly of fragments into whole
 * messages; shared by the client wrappers. Fragments arrive on one client thread at a time.
 */
final class Inbox {
  private static final WsMessage CLOSED = WsMessage.text("<closed>");

  private final BlockingQueue<WsMessage> queue = new LinkedBlockingQueue<>();
  private final CountDownLatch closed = new CountDownLatch(1);
  private volatile String closeReason = "open";
  private volatile int closeStatus = -1;

  private final StringBuilder text = new StringBuilder();
  private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

  void textPart(CharSequence part, boolean last) {
    text.append(part);
    if (last) {
      queue.add(WsMessage.text(text.toString()));
      text.setLength(0);
    }
  }

  void binaryPart(ByteBuffer part, boolean last) {
    byte[] chunk = new byte[part.remaining()];
    part.get(chunk);
    binary.writeBytes(chunk);
    if (last) {
      queue.add(WsMessage.binary(binary.toByteArray()));
      binary.reset();
    }
  }

  /** Waits for a client's send to complete. */
  static void awaitSent(Future<?> f) {
    try {
      f.get(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while sending", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new AssertionError("send failed", e);
    }
  }

  void closed(String why) {
    closed(-1, why);
  }

  // Synchronized: a client may report a close frame and an error (the TCP close right behind the
  // frame) on two threads at once; the first report wins whole, never a status from one and the
  // reason from the other (seen under load as "closed by peer: 1012" with status -1).
  synchronized void closed(int status, String why) {
    if (closed.getCount() > 0) {
      closeStatus = status;
      closeReason = why;
      closed.countDown();
      queue.add(CLOSED);
    }
  }

  String closeReason() {
    return closeReason;
  }

  int closeStatus() {
    return closeStatus;
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

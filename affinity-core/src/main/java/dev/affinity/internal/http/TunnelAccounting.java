package dev.affinity.internal.http;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * What both adapters count for one proxied handshake and its tunnel, for their tunnel listeners:
 * when it was decided, answered and opened, the bytes relayed each way, and the first close code
 * (either side's close frame, or the proxy's own). Each direction's methods are called by one
 * thread at a time; the summaries may be read from any thread. Not API.
 */
public final class TunnelAccounting {
  /** The close code of a tunnel that ended without a close frame (RFC 6455 section 7.4.1). */
  public static final int ABNORMAL_CLOSURE = 1006;

  private static final System.Logger LOG = System.getLogger(TunnelAccounting.class.getName());

  private final LongSupplier nanoClock;
  private final long decidedAt;
  private volatile long openedAt;
  private final CloseCodeSniffer fromClient = new CloseCodeSniffer();
  private final CloseCodeSniffer fromBackend = new CloseCodeSniffer();
  private final AtomicLong bytesFromClient = new AtomicLong();
  private final AtomicLong bytesFromBackend = new AtomicLong();
  private final AtomicInteger closeCode = new AtomicInteger(CloseCodeSniffer.NONE);
  private final AtomicBoolean answered = new AtomicBoolean();
  private final AtomicBoolean ended = new AtomicBoolean();

  /** Starts counting now (the decision), on {@link System#nanoTime()}. */
  public TunnelAccounting() {
    this(System::nanoTime);
  }

  /** Starts counting now (the decision), on {@code nanoClock}. */
  public TunnelAccounting(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
    this.decidedAt = nanoClock.getAsLong();
  }

  /**
   * Marks the handshake answered and returns the time since the decision, or null if it was marked
   * before (each handshake is reported once).
   */
  public @Nullable Duration answered() {
    if (!answered.compareAndSet(false, true)) {
      return null;
    }
    long now = nanoClock.getAsLong();
    return Duration.ofNanos(now - decidedAt);
  }

  /** The tunnel opened (the client got the 101). */
  public void opened() {
    openedAt = nanoClock.getAsLong();
  }

  /** Whether {@link #opened()} was called. */
  public boolean isOpen() {
    return openedAt != 0;
  }

  /** Bytes from {@code from} to {@code end} were relayed from the client to the backend. */
  public void fromClient(CloseCodeSniffer.ByteAt bytes, int from, int end) {
    bytesFromClient.addAndGet(end - from);
    if (closeCode.get() == CloseCodeSniffer.NONE) {
      fromClient.advance(bytes, from, end);
      closeCode.compareAndSet(CloseCodeSniffer.NONE, fromClient.code());
    }
  }

  /** Bytes from {@code from} to {@code end} were relayed from the backend to the client. */
  public void fromBackend(CloseCodeSniffer.ByteAt bytes, int from, int end) {
    bytesFromBackend.addAndGet(end - from);
    if (closeCode.get() == CloseCodeSniffer.NONE) {
      fromBackend.advance(bytes, from, end);
      closeCode.compareAndSet(CloseCodeSniffer.NONE, fromBackend.code());
    }
  }

  /** The proxy sent a close frame with {@code code} (counted if no close frame came before). */
  public void proxyClosed(int code) {
    closeCode.compareAndSet(CloseCodeSniffer.NONE, code);
  }

  /** Marks the tunnel ended; true the first time only, so it is reported once. */
  public boolean ended() {
    return ended.compareAndSet(false, true);
  }

  /** How long the tunnel has been open (zero if it never opened). */
  public Duration openFor() {
    long opened = openedAt;
    return opened == 0 ? Duration.ZERO : Duration.ofNanos(nanoClock.getAsLong() - opened);
  }

  /** Bytes relayed from the client. */
  public long bytesFromClient() {
    return bytesFromClient.get();
  }

  /** Bytes relayed from the backend. */
  public long bytesFromBackend() {
    return bytesFromBackend.get();
  }

  /** The first close code seen, or {@link #ABNORMAL_CLOSURE} if none. */
  public int closeCode() {
    int c = closeCode.get();
    return c == CloseCodeSniffer.NONE ? ABNORMAL_CLOSURE : c;
  }

  /** Runs a listener call, logging (never propagating) what it throws. */
  public static void notify(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "a tunnel listener failed", e);
    }
  }
}

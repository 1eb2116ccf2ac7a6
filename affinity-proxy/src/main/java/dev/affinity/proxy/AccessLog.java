package dev.affinity.proxy;

import static java.util.Objects.requireNonNull;

import dev.affinity.RoutingDecision;
import dev.affinity.backend.Backend;
import dev.affinity.client.ClientAddressResolver;
import dev.affinity.metrics.RoutingListener;
import dev.affinity.metrics.TunnelListener;
import java.time.Clock;
import java.time.Duration;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The proxy's access log and its connect-failure warnings, as a {@link RoutingListener}.
 *
 * <p>One line per routed handshake, once it is answered, and one per tunnel when it closes, on the
 * logger {@code dev.affinity.proxy.access} at INFO, in logfmt or JSON, through {@link
 * System.Logger} so that the logging backend routes it. The adapters report both through their
 * tunnel listeners (this class is the {@link TunnelListener} both adapters take):
 *
 * <pre>
 * time=2026-12-03T09:30:00.123Z event=handshake client=203.0.113.7 method=GET path=/chat
 *   strategy=cookie outcome=AFFINITY_HIT backend=ws-1 status=101 ms=1.8 reason="valid cookie"
 * time=2026-12-03T09:41:02.007Z event=close client=203.0.113.7 path=/chat backend=ws-1
 *   duration_ms=662115.3 bytes_in=5230 bytes_out=88121 close_code=1000
 * </pre>
 *
 * {@code status} is what the client got (101, the backend's own refusal, 502/504, or the decision's
 * 401/503), {@code ms} the time from the decision to it; {@code bytes_in} came from the client,
 * {@code bytes_out} from the backend; {@code close_code} is the first close frame's (either side's,
 * or the proxy's own), 1006 when the tunnel ended without one.
 *
 * <p>The key source is the deciding strategy and its reason, never a token, cookie or header value.
 *
 * <p>A backend that refuses or times out a connect is a WARNING on {@code dev.affinity.proxy}, at
 * most once per backend per {@link #WARN_EVERY}; the failures in between are counted and the next
 * warning says how many.
 */
final class AccessLog implements RoutingListener, TunnelListener {
  /** The shortest time between two connect-failure warnings about one backend. */
  static final Duration WARN_EVERY = Duration.ofSeconds(10);

  /** The access log's formats. */
  enum Format {
    LOGFMT,
    JSON,
    OFF
  }

  private static final System.Logger ACCESS = System.getLogger("dev.affinity.proxy.access");
  private static final System.Logger WARN = System.getLogger("dev.affinity.proxy");

  private final Format format;
  private final ClientAddressResolver clients;
  private final Clock clock;
  private final LongSupplier nanoTicker;
  private final ConcurrentMap<String, Throttle> throttles = new ConcurrentHashMap<>();
  // The client address of each open tunnel, resolved at its handshake: an adapter may drop the
  // request's headers once the tunnel is open, and the close line names the same client.
  private final Map<RoutingDecision, String> tunnelClients =
      Collections.synchronizedMap(new IdentityHashMap<>());

  AccessLog(Format format, ClientAddressResolver clients, Clock clock, LongSupplier nanoTicker) {
    this.format = requireNonNull(format, "format");
    this.clients = requireNonNull(clients, "clients");
    this.clock = requireNonNull(clock, "clock");
    this.nanoTicker = requireNonNull(nanoTicker, "nanoTicker");
  }

  @Override
  public void handshakeAnswered(RoutingDecision d, int status, Duration handshakeTime) {
    if (format == Format.OFF || !ACCESS.isLoggable(System.Logger.Level.INFO)) {
      return;
    }
    String client = client(d);
    if (status == 101) {
      tunnelClients.put(d, client);
    }
    Line line = new Line(format);
    line.add("time", clock.instant().toString());
    line.add("event", "handshake");
    line.add("client", client);
    line.add("method", d.request().method());
    line.add("path", d.request().path());
    line.add("strategy", d.strategy());
    line.add("outcome", d.outcome().name());
    line.add("backend", d.hasBackend() ? d.backend().id() : "-");
    line.add("status", Integer.toString(status));
    line.add("ms", millis(handshakeTime));
    line.add("reason", d.reason());
    ACCESS.log(System.Logger.Level.INFO, line.toString());
  }

  @Override
  public void tunnelClosed(
      RoutingDecision d,
      Backend backend,
      Duration open,
      long bytesFromClient,
      long bytesFromBackend,
      int closeCode) {
    String client = tunnelClients.remove(d);
    if (format == Format.OFF || !ACCESS.isLoggable(System.Logger.Level.INFO)) {
      return;
    }
    Line line = new Line(format);
    line.add("time", clock.instant().toString());
    line.add("event", "close");
    line.add("client", client != null ? client : client(d));
    line.add("path", d.request().path());
    line.add("backend", backend.id());
    line.add("duration_ms", millis(open));
    line.add("bytes_in", Long.toString(bytesFromClient));
    line.add("bytes_out", Long.toString(bytesFromBackend));
    line.add("close_code", Integer.toString(closeCode));
    ACCESS.log(System.Logger.Level.INFO, line.toString());
  }

  private String client(RoutingDecision d) {
    try {
      return clients.resolve(d.request()).address().getHostAddress();
    } catch (RuntimeException e) {
      return d.request().remoteAddress().getAddress().getHostAddress();
    }
  }

  /** Milliseconds with one decimal: {@code 0.4}, {@code 12.0}. */
  static String millis(Duration d) {
    long tenths = d.toNanos() / 100_000;
    return (tenths / 10) + "." + (tenths % 10);
  }

  @Override
  public void connectFailed(Backend backend, Throwable cause) {
    Throttle t = throttles.computeIfAbsent(backend.id(), id -> new Throttle());
    long now = nanoTicker.getAsLong();
    long suppressed = t.tryWarn(now, WARN_EVERY.toNanos());
    if (suppressed < 0) {
      return;
    }
    WARN.log(
        System.Logger.Level.WARNING,
        "backend "
            + backend.id()
            + " ("
            + backend.host()
            + ":"
            + backend.port()
            + ") refused or timed out a connect: "
            + describe(cause)
            + (suppressed > 0 ? " (" + suppressed + " more since the last warning)" : ""));
  }

  private static String describe(Throwable cause) {
    String m = cause.getMessage();
    return cause.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  /** Rate-limits one backend's warnings; lock-free. */
  private static final class Throttle {
    private final AtomicLong last = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong skipped = new AtomicLong();

    /** The count suppressed since the last warning if one may be logged now, else -1. */
    long tryWarn(long now, long every) {
      long prev = last.get();
      if (prev != Long.MIN_VALUE && now - prev < every) {
        skipped.incrementAndGet();
        return -1;
      }
      if (!last.compareAndSet(prev, now)) {
        skipped.incrementAndGet();
        return -1;
      }
      return skipped.getAndSet(0);
    }
  }

  /** One logfmt or JSON line; values are quoted and escaped when they need it. */
  private static final class Line {
    private final Format format;
    private final StringBuilder sb = new StringBuilder(160);

    Line(Format format) {
      this.format = format;
      if (format == Format.JSON) {
        sb.append('{');
      }
    }

    void add(String key, String value) {
      if (format == Format.JSON) {
        if (sb.length() > 1) {
          sb.append(',');
        }
        sb.append('"').append(key).append("\":\"");
        escape(value);
        sb.append('"');
        return;
      }
      if (sb.length() > 0) {
        sb.append(' ');
      }
      sb.append(key).append('=');
      boolean quote = value.isEmpty();
      for (int i = 0; i < value.length() && !quote; i++) {
        char c = value.charAt(i);
        quote = c <= ' ' || c == '"' || c == '=' || c == '\\' || c > '~';
      }
      if (quote) {
        sb.append('"');
        escape(value);
        sb.append('"');
      } else {
        sb.append(value);
      }
    }

    private void escape(String value) {
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        if (c == '"' || c == '\\') {
          sb.append('\\').append(c);
        } else if (c < ' ') {
          sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
        } else {
          sb.append(c);
        }
      }
    }

    @Override
    public String toString() {
      return format == Format.JSON ? sb + "}" : sb.toString();
    }
  }
}

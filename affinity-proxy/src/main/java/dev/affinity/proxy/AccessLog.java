package dev.affinity.proxy;

import static java.util.Objects.requireNonNull;

import dev.affinity.RoutingDecision;
import dev.affinity.backend.Backend;
import dev.affinity.client.ClientAddressResolver;
import dev.affinity.metrics.RoutingListener;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The proxy's access log and its connect-failure warnings, as a {@link RoutingListener}.
 *
 * <p>One line per handshake decision on the logger {@code dev.affinity.proxy.access} at INFO, in
 * logfmt or JSON, through {@link System.Logger} so that the logging backend routes it:
 *
 * <pre>
 * time=2026-12-03T09:30:00.123Z event=handshake client=203.0.113.7 method=GET path=/chat
 *   strategy=cookie outcome=AFFINITY_HIT backend=ws-1 status=101 reason="valid cookie"
 * </pre>
 *
 * The key source is the deciding strategy and its reason, never a token, cookie or header value.
 *
 * <p>A backend that refuses or times out a connect is a WARNING on {@code dev.affinity.proxy}, at
 * most once per backend per {@link #WARN_EVERY}; the failures in between are counted and the next
 * warning says how many.
 */
final class AccessLog implements RoutingListener {
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

  AccessLog(Format format, ClientAddressResolver clients, Clock clock, LongSupplier nanoTicker) {
    this.format = requireNonNull(format, "format");
    this.clients = requireNonNull(clients, "clients");
    this.clock = requireNonNull(clock, "clock");
    this.nanoTicker = requireNonNull(nanoTicker, "nanoTicker");
  }

  @Override
  public void decisionMade(RoutingDecision d) {
    if (format == Format.OFF || !ACCESS.isLoggable(System.Logger.Level.INFO)) {
      return;
    }
    String client;
    try {
      client = clients.resolve(d.request()).address().getHostAddress();
    } catch (RuntimeException e) {
      client = d.request().remoteAddress().getAddress().getHostAddress();
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
    line.add("status", Integer.toString(d.httpStatus()));
    line.add("reason", d.reason());
    ACCESS.log(System.Logger.Level.INFO, line.toString());
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

package dev.affinity.redis;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendState;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * The operator's desired state of a group as the fleet stores it in Redis: one entry per backend id
 * the operator has touched, with a version that grows by one with every change.
 *
 * <p>Text form, one entry per line, fields URL-encoded and separated by spaces: {@code id host port
 * weight maxConnections state drainDeadlineMillis metadata}, where state is {@code UP}, {@code
 * DRAINING}, {@code DOWN} or {@code REMOVED} (a tombstone: remove the backend wherever it is), the
 * deadline is epoch milliseconds or {@code -1}, and metadata is {@code k=v&k=v} with each part
 * URL-encoded.
 */
final class DesiredState {
  static final DesiredState EMPTY = new DesiredState(0, Map.of());

  /** One backend's desired state; {@code state == null} marks a removed backend. */
  static final class Entry {
    final Backend backend;
    final @Nullable BackendState state;
    final long drainDeadlineMillis;

    Entry(Backend backend, @Nullable BackendState state, long drainDeadlineMillis) {
      this.backend = backend;
      this.state = state;
      this.drainDeadlineMillis = state == BackendState.DRAINING ? drainDeadlineMillis : -1;
    }

    boolean removed() {
      return state == null;
    }

    @Override
    public boolean equals(@Nullable Object o) {
      return o instanceof Entry
          && ((Entry) o).backend.equals(backend)
          && ((Entry) o).state == state
          && ((Entry) o).drainDeadlineMillis == drainDeadlineMillis;
    }

    @Override
    public int hashCode() {
      return Objects.hash(backend, state, drainDeadlineMillis);
    }

    @Override
    public String toString() {
      return backend.id() + "[" + (state == null ? "REMOVED" : state) + "]";
    }
  }

  final long version;
  final Map<String, Entry> entries;

  DesiredState(long version, Map<String, Entry> entries) {
    this.version = version;
    this.entries = Collections.unmodifiableMap(new TreeMap<>(entries));
  }

  DesiredState with(Entry e) {
    Map<String, Entry> next = new TreeMap<>(entries);
    next.put(e.backend.id(), e);
    return new DesiredState(version, next);
  }

  String encode() {
    StringBuilder sb = new StringBuilder();
    for (Entry e : entries.values()) {
      Backend b = e.backend;
      StringBuilder meta = new StringBuilder();
      b.metadata()
          .forEach(
              (k, v) -> {
                if (meta.length() > 0) {
                  meta.append('&');
                }
                meta.append(enc(k)).append('=').append(enc(v));
              });
      sb.append(enc(b.id()))
          .append(' ')
          .append(enc(b.host()))
          .append(' ')
          .append(b.port())
          .append(' ')
          .append(b.weight())
          .append(' ')
          .append(b.maxConnections().orElse(0))
          .append(' ')
          .append(e.state == null ? "REMOVED" : e.state.name())
          .append(' ')
          .append(e.drainDeadlineMillis)
          .append(' ')
          .append(meta.length() == 0 ? "-" : enc(meta.toString()))
          .append('\n');
    }
    return sb.toString();
  }

  /**
   * Parses the text form.
   *
   * @throws IllegalArgumentException if a line is malformed
   */
  static DesiredState decode(long version, String text) {
    Map<String, Entry> entries = new TreeMap<>();
    for (String line : text.split("\n", -1)) {
      if (line.isEmpty()) {
        continue;
      }
      String[] f = line.split(" ", -1);
      if (f.length != 8) {
        throw new IllegalArgumentException(
            "desired state line: '" + line + "' (expected: 8 fields)");
      }
      Backend b =
          Backend.of(dec(f[0]), dec(f[1]), Integer.parseInt(f[2]))
              .withWeight(Integer.parseInt(f[3]))
              .withMaxConnections(Integer.parseInt(f[4]));
      if (!f[7].equals("-")) {
        for (String kv : dec(f[7]).split("&", -1)) {
          int eq = kv.indexOf('=');
          b = b.withMetadata(dec(kv.substring(0, eq)), dec(kv.substring(eq + 1)));
        }
      }
      BackendState state = f[5].equals("REMOVED") ? null : BackendState.valueOf(f[5]);
      entries.put(b.id(), new Entry(b, state, Long.parseLong(f[6])));
    }
    return new DesiredState(version, entries);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, UTF_8);
  }

  private static String dec(String s) {
    return URLDecoder.decode(s, UTF_8);
  }

  @Override
  public String toString() {
    return "DesiredState{version=" + version + ", " + entries.values() + "}";
  }
}

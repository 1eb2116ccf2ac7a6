package dev.affinity.jmh;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.common.net.InetAddresses;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.RoutingKey;
import dev.affinity.strategy.Selection;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.IntFunction;
import org.jspecify.annotations.Nullable;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The fairness and disruption report: for each hash strategy and peer, the max/mean load over K
 * keys (1M by default), and the fraction of keys that move when one backend is removed or added
 * (optimum 1/n and 1/(n+1)), for n in {3, 16, 100, 1000}. Writes a Markdown table to stdout, a CSV
 * and two PNG plots.
 *
 * <p>Keys are distinct random IPv4 addresses as text (the same strings for every contender; the
 * peers hash their UTF-8 bytes). The removed backend is the middle one of the id-sorted list, which
 * is the list a jump-hash user indexes: removing it renumbers every later backend.
 *
 * <pre>
 * java -cp affinity-jmh/target/benchmarks.jar dev.affinity.jmh.FairnessSimulator [keys (1000000)] [outDir (docs/images)]
 * </pre>
 */
public final class FairnessSimulator {
  static final int[] POOLS = {3, 16, 100, 1000};
  private static final String KEY_HEADER = "X-Key";

  private static final java.awt.Color[] COLOURS = {
    new java.awt.Color(0x1f77b4),
    new java.awt.Color(0xff7f0e),
    new java.awt.Color(0x9467bd),
    new java.awt.Color(0x2ca02c),
    new java.awt.Color(0xd62728),
    new java.awt.Color(0x8c564b),
    new java.awt.Color(0x7f7f7f),
    new java.awt.Color(0x17becf),
    java.awt.Color.BLACK,
  };

  private FairnessSimulator() {}

  /** One contender: maps key i to a backend index in a pool given by its ids. */
  interface Contender {
    String name();

    /** An owner function for a pool, as indices into {@code ids}. */
    IntFunction<String> owners(List<String> ids, String[] keys);

    /** Whether removal and addition are meaningful (bounded load depends on history). */
    default boolean measuresDisruption() {
      return true;
    }
  }

  /** A reusable request view whose header {@code X-Key} is the current key. */
  static final class KeyRequest implements RoutingRequest {
    private static final InetSocketAddress PEER =
        new InetSocketAddress(InetAddresses.forString("127.0.0.1"), 40_000);
    String key = "";

    @Override
    public InetSocketAddress remoteAddress() {
      return PEER;
    }

    @Override
    public String method() {
      return "GET";
    }

    @Override
    public String path() {
      return "/ws";
    }

    @Override
    public @Nullable String header(String name) {
      return name.equalsIgnoreCase(KEY_HEADER) ? key : null;
    }

    @Override
    public List<String> headers(String name) {
      return name.equalsIgnoreCase(KEY_HEADER) ? List.of(key) : List.of();
    }

    @Override
    public @Nullable String queryParameter(String name) {
      return null;
    }

    @Override
    public @Nullable String cookie(String name) {
      return null;
    }
  }

  static Contender affinity(String name, java.util.function.Supplier<AffinityStrategy> factory) {
    return new Contender() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public IntFunction<String> owners(List<String> ids, String[] keys) {
        Membership m = group(ids).snapshot();
        AffinityStrategy s = factory.get();
        KeyRequest r = new KeyRequest();
        return i -> {
          r.key = keys[i];
          Member owner = s.select(r, m).member();
          if (owner == null) {
            throw new IllegalStateException(name + " chose nothing");
          }
          return owner.id();
        };
      }
    };
  }

  static Contender peer(String name, java.util.function.Function<List<String>, Peers.Peer> f) {
    return new Contender() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public IntFunction<String> owners(List<String> ids, String[] keys) {
        Peers.Peer p = f.apply(ids);
        return i -> ids.get(p.bucket(keys[i].getBytes(UTF_8)));
      }
    };
  }

  /** A contender placed once, key by key, whose balance is reported but not its disruption. */
  static Contender balanceOnly(
      String name, java.util.function.BiFunction<List<String>, String[], String[]> placer) {
    return new Contender() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public boolean measuresDisruption() {
        return false;
      }

      @Override
      public IntFunction<String> owners(List<String> ids, String[] keys) {
        String[] placed = placer.apply(ids, keys);
        return i -> placed[i];
      }
    };
  }

  /**
   * Bounded load places the keys as live connections, in order. Its stickiness depends on that
   * history, so only its balance is reported.
   */
  static String[] boundedLoad(List<String> ids, String[] keys) {
    BackendGroup g = group(ids);
    AffinityStrategy s =
        AffinityStrategy.boundedLoad(
            AffinityStrategy.rendezvous(RoutingKey.header(KEY_HEADER)), 1.25);
    KeyRequest r = new KeyRequest();
    List<ConnectionLease> leases = new ArrayList<>(keys.length);
    String[] placed = new String[keys.length];
    for (int i = 0; i < keys.length; i++) {
      r.key = keys[i];
      Selection sel = s.select(r, g.snapshot());
      Member m = sel.member();
      if (m == null) {
        throw new IllegalStateException("bounded load chose nothing: " + sel);
      }
      leases.add(g.openConnection(m.backend()));
      placed[i] = m.id();
    }
    leases.forEach(ConnectionLease::close);
    return placed;
  }

  /**
   * The noise floor: each key on a uniformly random backend. No hash can beat its max/mean, which
   * is the binomial spread of K keys over n bins.
   */
  static String[] uniformRandom(List<String> ids, String[] keys) {
    Random r = new Random(7);
    String[] placed = new String[keys.length];
    for (int i = 0; i < keys.length; i++) {
      placed[i] = ids.get(r.nextInt(ids.size()));
    }
    return placed;
  }

  static BackendGroup group(List<String> ids) {
    BackendGroup g = BackendGroup.create();
    for (String id : ids) {
      g.add(Backend.of(id, "10.0.0.1", 8080));
    }
    return g;
  }

  static List<Contender> contenders() {
    RoutingKey key = RoutingKey.header(KEY_HEADER);
    return List.of(
        affinity("affinity HRW", () -> AffinityStrategy.rendezvous(key)),
        affinity("affinity HRW table (M=2^22)", () -> AffinityStrategy.rendezvousTable(key)),
        affinity("affinity maglev (M=65537)", () -> AffinityStrategy.maglev(key)),
        affinity("affinity maglev (M=655373)", () -> AffinityStrategy.maglev(key, 655_373)),
        balanceOnly("affinity bounded 1.25", FairnessSimulator::boundedLoad),
        peer("Guava consistentHash", ids -> Peers.guavaJump(ids.size())),
        peer("hash4j JumpBackHash", ids -> Peers.hash4jJumpBack(ids.size())),
        peer("ketama, 160 points", Peers::ketamaArray),
        balanceOnly("ideal: random (noise floor)", FairnessSimulator::uniformRandom));
  }

  /**
   * One row of the report. Besides the moved fractions, the moved keys as a multiple of the keys
   * that had to move: the removed backend's own keys before, the added backend's keys after (1.0 is
   * exactly minimal).
   */
  record Row(
      String contender,
      int n,
      double maxOverMean,
      double movedOnRemove,
      double movedOnAdd,
      double removeOverOwn,
      double addOverOwn) {}

  static String[] keys(int count, long seed) {
    Random r = new Random(seed);
    java.util.Set<String> seen = new java.util.HashSet<>(count * 2);
    String[] out = new String[count];
    for (int i = 0; i < count; ) {
      int a = r.nextInt();
      String k =
          (1 + Integer.remainderUnsigned(a >>> 24, 222))
              + "."
              + ((a >>> 16) & 0xff)
              + "."
              + ((a >>> 8) & 0xff)
              + "."
              + (a & 0xff);
      if (seen.add(k)) {
        out[i++] = k;
      }
    }
    return out;
  }

  static Row simulate(Contender c, int n, String[] keys) {
    List<String> ids = Fixtures.ids(n);
    java.util.Collections.sort(ids); // the id-sorted list, as a membership snapshot holds it
    IntFunction<String> base = c.owners(ids, keys);
    Map<String, Integer> load = new LinkedHashMap<>();
    String[] before = new String[keys.length];
    for (int i = 0; i < keys.length; i++) {
      before[i] = base.apply(i);
      load.merge(before[i], 1, Integer::sum);
    }
    int max = load.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    double maxOverMean = max / ((double) keys.length / n);
    double removed = Double.NaN;
    double added = Double.NaN;
    double removeOverOwn = Double.NaN;
    double addOverOwn = Double.NaN;
    if (c.measuresDisruption()) {
      List<String> fewer = new ArrayList<>(ids);
      String gone = fewer.remove(n / 2);
      removed = moved(before, c.owners(fewer, keys));
      removeOverOwn = removed * keys.length / load.getOrDefault(gone, 0);
      List<String> more = new ArrayList<>(ids);
      more.add("backend-new");
      java.util.Collections.sort(more);
      IntFunction<String> after = c.owners(more, keys);
      added = moved(before, after);
      int newcomer = 0;
      for (int i = 0; i < keys.length; i++) {
        newcomer += after.apply(i).equals("backend-new") ? 1 : 0;
      }
      addOverOwn = added * keys.length / newcomer;
    }
    return new Row(c.name(), n, maxOverMean, removed, added, removeOverOwn, addOverOwn);
  }

  private static double moved(String[] before, IntFunction<String> after) {
    int moved = 0;
    for (int i = 0; i < before.length; i++) {
      if (!before[i].equals(after.apply(i))) {
        moved++;
      }
    }
    return (double) moved / before.length;
  }

  public static void main(String[] args) throws IOException {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    Path out = Path.of(args.length > 1 ? args[1] : "docs/images");
    Files.createDirectories(out);
    String[] keys = keys(count, 20261201L);
    List<Row> rows = new ArrayList<>();
    PrintStream o = System.out;
    o.printf(Locale.ROOT, "Fairness and disruption over %,d keys%n%n", count);
    o.println(
        "| contender | n | max/mean load | moved on remove (÷ 1/n) | moved on add (÷ 1/(n+1))"
            + " | remove: moved ÷ removed backend's keys | add: moved ÷ newcomer's keys |");
    o.println("|---|---:|---:|---:|---:|---:|---:|");
    for (Contender c : contenders()) {
      for (int n : POOLS) {
        long t0 = System.nanoTime();
        Row r = simulate(c, n, keys);
        rows.add(r);
        o.printf(
            Locale.ROOT,
            "| %s | %d | %.3f | %s | %s | %s | %s |%n",
            r.contender(),
            n,
            r.maxOverMean(),
            Double.isNaN(r.movedOnRemove())
                ? "n/a"
                : String.format(
                    Locale.ROOT, "%.4f (%.2f×)", r.movedOnRemove(), r.movedOnRemove() * n),
            Double.isNaN(r.movedOnAdd())
                ? "n/a"
                : String.format(
                    Locale.ROOT, "%.4f (%.2f×)", r.movedOnAdd(), r.movedOnAdd() * (n + 1)),
            Double.isNaN(r.removeOverOwn())
                ? "n/a"
                : String.format(Locale.ROOT, "%.4f×", r.removeOverOwn()),
            Double.isNaN(r.addOverOwn())
                ? "n/a"
                : String.format(Locale.ROOT, "%.4f×", r.addOverOwn()));
        System.err.printf(
            Locale.ROOT, "%s n=%d: %.1f s%n", c.name(), n, (System.nanoTime() - t0) / 1e9);
      }
    }
    writeCsv(rows, out.resolve("fairness.csv"));
    plot(rows, out, count);
  }

  private static void writeCsv(List<Row> rows, Path file) throws IOException {
    StringBuilder sb =
        new StringBuilder(
            "contender,n,max_over_mean,moved_on_remove,moved_on_add,remove_over_own,add_over_own\n");
    for (Row r : rows) {
      sb.append(
          String.format(
              Locale.ROOT,
              "%s,%d,%.5f,%.6f,%.6f,%.6f,%.6f%n",
              r.contender(),
              r.n(),
              r.maxOverMean(),
              r.movedOnRemove(),
              r.movedOnAdd(),
              r.removeOverOwn(),
              r.addOverOwn()));
    }
    Files.writeString(file, sb.toString());
  }

  private static XYChart chart(String title, String yTitle) {
    XYChart chart =
        new XYChartBuilder()
            .width(1150)
            .height(560)
            .title(title)
            .xAxisTitle("backends (n)")
            .yAxisTitle(yTitle)
            .build();
    Styler st = chart.getStyler();
    chart.getStyler().setXAxisLogarithmic(true);
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    chart.getStyler().setLegendLayout(Styler.LegendLayout.Vertical);
    chart.getStyler().setMarkerSize(8);
    chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
    chart.getStyler().setPlotGridLinesVisible(true);
    st.setDecimalPattern("#0.##");
    return chart;
  }

  private static void series(XYChart chart, String name, double[] x, double[] y, java.awt.Color c) {
    org.knowm.xchart.XYSeries sr = chart.addSeries(name, x, y);
    sr.setMarker(SeriesMarkers.CIRCLE);
    sr.setLineColor(c);
    sr.setMarkerColor(c);
  }

  private static void plot(List<Row> rows, Path out, int count) throws IOException {
    XYChart balance =
        chart(
            String.format(
                Locale.ROOT, "Balance: max / mean load over %,d keys (1.0 is perfect)", count),
            "max / mean");
    XYChart remove =
        chart(
            "Disruption: keys moved when the middle backend is removed, ÷ optimum 1/n (jump hashes renumber the list)",
            "moved ÷ (1/n)");
    XYChart add =
        chart(
            "Disruption: keys moved when one backend is added, ÷ optimum 1/(n+1)",
            "moved ÷ (1/(n+1))");
    remove.getStyler().setYAxisLogarithmic(true);
    Map<String, List<Row>> by = new LinkedHashMap<>();
    for (Row r : rows) {
      by.computeIfAbsent(r.contender(), k -> new ArrayList<>()).add(r);
    }
    int colour = 0;
    for (Map.Entry<String, List<Row>> e : by.entrySet()) {
      List<Row> rs = e.getValue();
      java.awt.Color c = COLOURS[colour++ % COLOURS.length];
      double[] x = rs.stream().mapToDouble(Row::n).toArray();
      series(balance, e.getKey(), x, rs.stream().mapToDouble(Row::maxOverMean).toArray(), c);
      if (!Double.isNaN(rs.get(0).movedOnRemove())) {
        series(
            remove,
            e.getKey(),
            x,
            rs.stream().mapToDouble(r -> r.movedOnRemove() * r.n()).toArray(),
            c);
        series(
            add,
            e.getKey(),
            x,
            rs.stream().mapToDouble(r -> r.movedOnAdd() * (r.n() + 1)).toArray(),
            c);
      }
    }
    BitmapEncoder.saveBitmap(
        balance, out.resolve("fairness-balance").toString(), BitmapEncoder.BitmapFormat.PNG);
    BitmapEncoder.saveBitmap(
        remove, out.resolve("disruption-remove").toString(), BitmapEncoder.BitmapFormat.PNG);
    BitmapEncoder.saveBitmap(
        add, out.resolve("disruption-add").toString(), BitmapEncoder.BitmapFormat.PNG);
  }
}

package dev.affinity.jmh;

import dev.affinity.hash.RendezvousTable;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Times the rendezvous table's work at publish: the first build from nothing, then an update after
 * one removal, one addition, one weight increase and one weight decrease, each from the same table
 * of {@code n} equal backends. Prints a Markdown table (fastest and median of the repetitions, in
 * milliseconds) and the table's bytes (owner and runner-up arrays).
 *
 * <pre>
 * java -cp affinity-jmh/target/benchmarks.jar dev.affinity.jmh.TablePublishTimes [buckets (4194304)] [n ... (100 1000 10000)]
 * </pre>
 *
 * <p>A timed main rather than JMH because one table of 10,000 backends takes about a minute to
 * build from nothing, and each JMH trial would build it again. Each update is repeated after 3
 * unmeasured warm-up rounds; the machine is shared, so the fastest repetition is the best estimate
 * of the code's own cost and the median shows the noise.
 */
public final class TablePublishTimes {
  private static final int WARMUP = 3;
  private static final int REPEATS = 9;

  private TablePublishTimes() {}

  public static void main(String[] args) {
    int buckets = args.length > 0 ? Integer.parseInt(args[0]) : RendezvousTable.DEFAULT_BUCKETS;
    int[] pools =
        args.length > 1
            ? Arrays.stream(args, 1, args.length).mapToInt(Integer::parseInt).toArray()
            : new int[] {100, 1000, 10_000};
    PrintStream o = System.out;
    o.printf(Locale.ROOT, "Rendezvous table publish times, M = %,d buckets%n%n", buckets);
    o.println("| n | table | first build | remove one | add one | weight ×2 | weight ÷2 |");
    o.println("|---:|---:|---:|---:|---:|---:|---:|");
    for (int n : pools) {
      String[] ids = new String[n];
      double[] w = new double[n];
      for (int i = 0; i < n; i++) {
        ids[i] = String.format(Locale.ROOT, "backend-%05d", i);
        w[i] = 1;
      }
      long t0 = System.nanoTime();
      RendezvousTable base = RendezvousTable.build(buckets, ids, w);
      double buildMs = (System.nanoTime() - t0) / 1e6;
      System.err.printf(Locale.ROOT, "n=%d built in %.0f ms%n", n, buildMs);
      int gone = n / 2;
      String[] fewer = new String[n - 1];
      double[] fewerW = new double[n - 1];
      for (int i = 0, j = 0; i < n; i++) {
        if (i != gone) {
          fewer[j] = ids[i];
          fewerW[j++] = 1;
        }
      }
      String[] more = Arrays.copyOf(ids, n + 1);
      more[n] = "backend-new";
      double[] moreW = new double[n + 1];
      Arrays.fill(moreW, 1);
      double[] heavier = w.clone();
      heavier[gone] = 2;
      double[] lighter = w.clone();
      lighter[gone] = 0.5;
      o.printf(
          Locale.ROOT,
          "| %,d | %,d B | %,.0f ms | %s | %s | %s | %s |%n",
          n,
          base.tableBytes(),
          buildMs,
          time(() -> base.update(fewer, fewerW)),
          time(() -> base.update(more, moreW)),
          time(() -> base.update(ids, heavier)),
          time(() -> base.update(ids, lighter)));
    }
    o.printf(
        Locale.ROOT,
        "%nTable bytes (owners and runners-up) by M (up to 256 / 65,536 / more backends):%n%n");
    o.println("| M | ≤ 256 backends | ≤ 65,536 | more |");
    o.println("|---:|---:|---:|---:|");
    for (int m = 1 << 16; m <= 1 << 24; m <<= 2) {
      o.printf(
          Locale.ROOT,
          "| 2^%d = %,d | %s | %s | %s |%n",
          Integer.numberOfTrailingZeros(m),
          m,
          mib(2L * m),
          mib(4L * m),
          mib(8L * m));
    }
  }

  private static String mib(long bytes) {
    return bytes >= 1 << 20
        ? String.format(Locale.ROOT, "%.0f MiB", bytes / 1048576.0)
        : String.format(Locale.ROOT, "%.0f KiB", bytes / 1024.0);
  }

  /**
   * "fastest / median ms (fastest CPU ms)" over the repetitions: wall time, and the updating
   * thread's own CPU time, which leaves out the time the thread waited for a core on a shared
   * machine.
   */
  private static String time(Supplier<RendezvousTable> update) {
    java.lang.management.ThreadMXBean threads =
        java.lang.management.ManagementFactory.getThreadMXBean();
    long sink = 0;
    for (int i = 0; i < WARMUP; i++) {
      sink += update.get().size();
    }
    double[] ms = new double[REPEATS];
    double[] cpu = new double[REPEATS];
    for (int i = 0; i < REPEATS; i++) {
      long c0 = threads.getCurrentThreadCpuTime();
      long t0 = System.nanoTime();
      RendezvousTable t = update.get();
      ms[i] = (System.nanoTime() - t0) / 1e6;
      cpu[i] = (threads.getCurrentThreadCpuTime() - c0) / 1e6;
      sink += t.size();
    }
    Arrays.sort(ms);
    Arrays.sort(cpu);
    if (sink == 42) {
      System.err.print(""); // keeps the results observable
    }
    return String.format(
        Locale.ROOT, "%.1f / %.1f ms (CPU %.1f ms)", ms[0], ms[REPEATS / 2], cpu[0]);
  }
}

package dev.affinity.jmh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collection;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Proves that every benchmark method runs, at the smallest and largest pool, for every strategy,
 * peer and input: one 10 ms iteration each, in this JVM (no fork, no warmup). It measures nothing;
 * the numbers come from {@code affinity-jmh/bench/run-jmh.sh}. About 10-20 s on two busy cores. It
 * ignores JMH's run lock (set in the module's surefire configuration), since it measures nothing.
 */
class BenchmarksSmokeTest {
  private static final TimeValue SHORT = TimeValue.milliseconds(10);

  @Test
  void everyBenchmark_runsAndReportsAScore() throws RunnerException {
    Options options =
        new OptionsBuilder()
            .include("dev\\.affinity\\.jmh\\..*Benchmark")
            .forks(0)
            .warmupIterations(0)
            .measurementIterations(1)
            .measurementTime(SHORT)
            .timeUnit(TimeUnit.NANOSECONDS)
            .param("backends", "3", "1000")
            .param("tableBuckets", "4096")
            .shouldFailOnError(true)
            .verbosity(VerboseMode.SILENT)
            .build();
    Collection<RunResult> results = new Runner(options).run();

    // Router: 9 strategies x 2 pools x 2 families; peers: 7 x 2 x 2; key hash: 6 methods x 3
    // inputs; cookie: 2 pools x 3 visits; JWT: 3 algorithms x 2 token kinds.
    assertThat(results).hasSize(36 + 28 + 18 + 6 + 6);
    for (RunResult r : results) {
      double score = r.getPrimaryResult().getScore();
      assertThat(score)
          .as("%s %s", r.getParams().getBenchmark(), r.getParams())
          .isPositive()
          .isFinite();
    }
  }
}

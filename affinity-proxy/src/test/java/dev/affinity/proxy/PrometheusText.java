package dev.affinity.proxy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format (0.0.4): every line must be a {@code #
 * HELP}, a {@code # TYPE} or a sample, and every sample's metric must have been typed.
 */
final class PrometheusText {
  private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") .*");
  private static final Pattern TYPE =
      Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
  private static final Pattern SAMPLE =
      Pattern.compile("(" + NAME + ")(\\{(.*)\\})? (-?[0-9.eE+-]+|NaN|\\+Inf|-Inf)( -?[0-9]+)?");
  private static final Pattern LABEL =
      Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

  private PrometheusText() {}

  /** One sample line. */
  record Sample(String name, Map<String, String> labels, double value) {}

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException naming the first line that is not the text format
   */
  static List<Sample> parse(String text) {
    Map<String, String> types = new HashMap<>();
    List<Sample> samples = new ArrayList<>();
    int n = 0;
    for (String line : text.split("\n", -1)) {
      n++;
      if (line.isEmpty()) {
        continue;
      }
      Matcher m;
      if (line.startsWith("#")) {
        if ((m = TYPE.matcher(line)).matches()) {
          types.put(m.group(1), m.group(2));
        } else if (!HELP.matcher(line).matches()) {
          throw new IllegalArgumentException("line " + n + ": " + line);
        }
        continue;
      }
      m = SAMPLE.matcher(line);
      if (!m.matches()) {
        throw new IllegalArgumentException("line " + n + ": " + line);
      }
      String name = m.group(1);
      String family = name.replaceAll("_(total|count|sum|bucket|max|created)$", "");
      if (!types.containsKey(name) && !types.containsKey(family)) {
        throw new IllegalArgumentException("line " + n + ": untyped metric " + name);
      }
      Map<String, String> labels = new LinkedHashMap<>();
      if (m.group(3) != null) {
        Matcher l = LABEL.matcher(m.group(3));
        int end = 0;
        while (l.lookingAt()) {
          labels.put(l.group(1), l.group(2));
          end = l.end();
          l.region(end, m.group(3).length());
        }
        if (end != m.group(3).length()) {
          throw new IllegalArgumentException("line " + n + ": bad labels in " + line);
        }
      }
      samples.add(
          new Sample(
              name,
              labels,
              Double.parseDouble(
                  m.group(4).replace("+Inf", "Infinity").replace("-Inf", "-Infinity"))));
    }
    if (samples.isEmpty()) {
      throw new IllegalArgumentException("no samples");
    }
    return samples;
  }
}

package dev.affinity.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * {@link HttpScope#covers} against a reference written the slow, obvious way (split both paths into
 * segments; covered iff the prefix's segments are the path's first segments), over paths built from
 * a small alphabet ({@code a}, {@code b}, {@code ab}, {@code a.b}, {@code %2F}) so that near-misses
 * such as {@code /ab} against prefix {@code /a} are frequent. jqwik's default 1,000 tries per
 * property: with at most 4 segments over 5 words there are under 800 distinct prefixes and paths
 * each, so 1,000 pairs hit every prefix/extension/near-miss shape many times.
 */
class HttpScopeProperties {
  @Provide
  Arbitrary<String> paths() {
    return Arbitraries.of("a", "b", "ab", "a.b", "%2F")
        .list()
        .ofMinSize(1)
        .ofMaxSize(4)
        .map(segments -> "/" + String.join("/", segments));
  }

  @Provide
  Arbitrary<String> writtenPrefixes() {
    return Combinators.combine(paths(), Arbitraries.of("", "/", "/*"))
        .as((path, suffix) -> path + suffix);
  }

  @Provide
  Arbitrary<String> requestPaths() {
    return Combinators.combine(paths(), Arbitraries.of("", "/", "?q=/a", "/?EIO=4"))
        .as((path, suffix) -> path + suffix);
  }

  @Property
  void covers_isSegmentPrefix(
      @ForAll("writtenPrefixes") String prefix, @ForAll("requestPaths") String requestPath) {
    assertThat(HttpScope.paths(List.of(prefix)).covers(requestPath))
        .as("%s covers %s", prefix, requestPath)
        .isEqualTo(reference(prefix, requestPath));
  }

  @Property
  void covers_allThreeSpellingsAgree(
      @ForAll("paths") String prefix, @ForAll("requestPaths") String requestPath) {
    boolean bare = HttpScope.paths(List.of(prefix)).covers(requestPath);
    assertThat(HttpScope.paths(List.of(prefix + "/")).covers(requestPath)).isEqualTo(bare);
    assertThat(HttpScope.parse(prefix + "/*").covers(requestPath)).isEqualTo(bare);
  }

  @Property
  void covers_aListCoversWhatAnyOfItsPrefixesCovers(
      @ForAll("paths") String first,
      @ForAll("paths") String second,
      @ForAll("requestPaths") String requestPath) {
    assertThat(HttpScope.paths(List.of(first, second)).covers(requestPath))
        .isEqualTo(
            HttpScope.paths(List.of(first)).covers(requestPath)
                || HttpScope.paths(List.of(second)).covers(requestPath));
  }

  private static boolean reference(String writtenPrefix, String requestPath) {
    String prefix = writtenPrefix;
    if (prefix.endsWith("/*")) {
      prefix = prefix.substring(0, prefix.length() - 2);
    }
    String[] want = segments(prefix);
    int q = requestPath.indexOf('?');
    String[] have = segments(q < 0 ? requestPath : requestPath.substring(0, q));
    if (want.length > have.length) {
      return false;
    }
    for (int i = 0; i < want.length; i++) {
      if (!want[i].equals(have[i])) {
        return false;
      }
    }
    return true;
  }

  /** The non-empty segments of a path ("/a/b/" has a and b). */
  private static String[] segments(String path) {
    return java.util.Arrays.stream(path.split("/", -1))
        .filter(s -> !s.isEmpty())
        .toArray(String[]::new);
  }
}

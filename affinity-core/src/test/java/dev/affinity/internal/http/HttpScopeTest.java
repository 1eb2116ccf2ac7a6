package dev.affinity.internal.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.AffinityConfigurationException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class HttpScopeTest {
  @Test
  void none_coversNothing_andIsTheDefaultOfTheProxyFlag() {
    assertThat(HttpScope.none().covers("/")).isFalse();
    assertThat(HttpScope.none().covers("/socket.io/")).isFalse();
    assertThat(HttpScope.none().isNone()).isTrue();
    assertThat(HttpScope.none().isAll()).isFalse();
    assertThat(HttpScope.parse("off")).isEqualTo(HttpScope.none());
    assertThat(HttpScope.parse(" OFF ")).isEqualTo(HttpScope.none());
    assertThat(HttpScope.none()).hasToString("HttpScope.none()");
  }

  @Test
  void all_coversEveryPath() {
    assertThat(HttpScope.all().covers("/")).isTrue();
    assertThat(HttpScope.all().covers("/anything/at/all?x=1")).isTrue();
    assertThat(HttpScope.all().isAll()).isTrue();
    assertThat(HttpScope.all().isNone()).isFalse();
    assertThat(HttpScope.all().prefixes()).isEmpty();
    assertThat(HttpScope.parse("on")).isEqualTo(HttpScope.all());
    assertThat(HttpScope.parse("On")).isEqualTo(HttpScope.all());
    assertThat(HttpScope.all()).hasToString("HttpScope.all()");
  }

  @Test
  void paths_slashStarAndTrailingSlash_meanTheSameSegmentAwarePrefix() {
    HttpScope bare = HttpScope.paths(List.of("/socket.io"));
    assertThat(HttpScope.paths(List.of("/socket.io/"))).isEqualTo(bare);
    assertThat(HttpScope.paths(List.of("/socket.io/*"))).isEqualTo(bare);
    assertThat(bare.prefixes()).containsExactly("/socket.io");
    assertThat(bare.covers("/socket.io")).isTrue();
    assertThat(bare.covers("/socket.io/")).isTrue();
    assertThat(bare.covers("/socket.io/?EIO=4&transport=polling")).isTrue();
    assertThat(bare.covers("/socket.io?EIO=4")).isTrue();
    assertThat(bare.covers("/socket.io/a/b")).isTrue();
    assertThat(bare.covers("/socket.iox")).isFalse();
    assertThat(bare.covers("/socket.iox/")).isFalse();
    assertThat(bare.covers("/socket")).isFalse();
    assertThat(bare.covers("/")).isFalse();
    assertThat(bare.covers("/Socket.io/")).as("case-sensitive").isFalse();
    assertThat(bare.covers("/other/socket.io/")).isFalse();
    assertThat(bare.isAll()).isFalse();
    assertThat(bare.isNone()).isFalse();
    assertThat(bare).hasToString("HttpScope.paths([/socket.io])");
  }

  @Test
  void paths_percentEncodingsAreComparedAsWritten() {
    HttpScope scope = HttpScope.paths(List.of("/a%20b"));
    assertThat(scope.covers("/a%20b/x")).isTrue();
    assertThat(scope.covers("/a%2520b/x")).isFalse();
  }

  @Test
  void paths_rootPrefix_isAll() {
    assertThat(HttpScope.paths(List.of("/"))).isEqualTo(HttpScope.all());
    assertThat(HttpScope.paths(List.of("/api", "/*"))).isEqualTo(HttpScope.all());
  }

  @Test
  void paths_severalPrefixes_dropDuplicates_keepOrder() {
    HttpScope scope = HttpScope.paths(List.of("/sockjs/", "/socket.io", "/sockjs"));
    assertThat(scope.prefixes()).containsExactly("/sockjs", "/socket.io");
    assertThat(scope.covers("/sockjs/info")).isTrue();
    assertThat(scope.covers("/socket.io/")).isTrue();
    assertThat(scope.covers("/events")).isFalse();
    assertThat(scope).isEqualTo(HttpScope.paths(List.of("/sockjs", "/socket.io")));
    assertThat(scope).isNotEqualTo(HttpScope.paths(List.of("/socket.io", "/sockjs")));
    assertThat(scope.hashCode())
        .isEqualTo(HttpScope.paths(List.of("/sockjs/*", "/socket.io")).hashCode());
  }

  @Test
  void paths_refusesWhatIsNotAPathPrefix_namingIt() {
    String expected =
        " (expected: a path prefix starting with / such as /socket.io, without ?, # or spaces)";
    for (String bad :
        Arrays.asList("", " ", "socket.io", "/a?b", "/a#b", "/a b", "/a/*/b", "//", "/a//", "/é")) {
      assertThatThrownBy(() -> HttpScope.paths(List.of("/ok", bad)))
          .as(bad)
          .isInstanceOf(AffinityConfigurationException.class)
          .hasMessage("proxyHttpPaths: \"" + bad + "\"" + expected);
    }
    assertThatThrownBy(() -> HttpScope.paths(List.of()))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("proxyHttpPaths: [] (expected: at least one path prefix)");
    assertThatThrownBy(() -> HttpScope.paths(Arrays.asList("/a", null)))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("proxyHttpPaths");
  }

  @Test
  void parse_commaList_isPaths_withSpacesAroundCommasIgnored() {
    assertThat(HttpScope.parse("/socket.io/*, /sockjs"))
        .isEqualTo(HttpScope.paths(List.of("/socket.io", "/sockjs")));
    assertThat(HttpScope.parse("/events")).isEqualTo(HttpScope.paths(List.of("/events")));
  }

  @Test
  void parse_refusesAnythingElse_namingTheFlagValue() {
    assertThatThrownBy(() -> HttpScope.parse("yes"))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage(
            "http: \"yes\" (expected: on, off or comma-separated path prefixes such as"
                + " /socket.io,/sockjs)");
    assertThatThrownBy(() -> HttpScope.parse(""))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessageStartingWith("http: \"\"");
    assertThatThrownBy(() -> HttpScope.parse("/a,,/b"))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessageStartingWith("http: \"\" (expected: a path prefix");
    assertThatThrownBy(() -> HttpScope.parse("/a,b"))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessageStartingWith("http: \"b\"");
  }
}

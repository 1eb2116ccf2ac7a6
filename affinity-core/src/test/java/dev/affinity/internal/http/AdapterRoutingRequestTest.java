package dev.affinity.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class AdapterRoutingRequestTest {
  /** A view over a fixed list of Cookie fields and a raw query, as an adapter would give. */
  private static final class View extends AdapterRoutingRequest {
    private final List<String> cookieFields;
    private final @Nullable String rawQuery;
    int cookieReads;

    View(List<String> cookieFields, @Nullable String rawQuery) {
      super(new InetSocketAddress("127.0.0.1", 5000), null, false, "GET", "/chat");
      this.cookieFields = cookieFields;
      this.rawQuery = rawQuery;
    }

    @Override
    protected @Nullable String rawQuery() {
      return rawQuery;
    }

    @Override
    public @Nullable String header(String name) {
      List<String> all = headers(name);
      return all.isEmpty() ? null : all.get(0);
    }

    @Override
    public List<String> headers(String name) {
      if (!name.equalsIgnoreCase("Cookie")) {
        return List.of();
      }
      cookieReads++;
      return cookieFields;
    }
  }

  @Test
  void cookies_firstValueOfANameWins_acrossFields() {
    View v = new View(List.of("A=1; B=two", "A=shadowed;C=3"), null);
    assertThat(v.cookie("A")).isEqualTo("1");
    assertThat(v.cookie("B")).isEqualTo("two");
    assertThat(v.cookie("C")).isEqualTo("3");
    assertThat(v.cookie("D")).isNull();
    assertThat(v.cookieReads).isEqualTo(1); // parsed once
  }

  @Test
  void cookies_quotedValueIsUnquoted_badPairsAreSkipped() {
    View v =
        new View(
            List.of("q=\"v1\"; bad name=x; sp=a b; semi; =novalue; ok=tok.en-_~; dq=a\"b; e="),
            null);
    assertThat(v.cookie("q")).isEqualTo("v1");
    assertThat(v.cookie("bad name")).isNull();
    assertThat(v.cookie("sp")).isNull();
    assertThat(v.cookie("semi")).isNull();
    assertThat(v.cookie("")).isNull();
    assertThat(v.cookie("ok")).isEqualTo("tok.en-_~");
    assertThat(v.cookie("dq")).isNull();
    assertThat(v.cookie("e")).isEmpty();
  }

  @Test
  void query_decodesPercentAndPlus_firstValueWins_bareNameIsEmpty() {
    View v = new View(List.of(), "x=1&x=2&y=%41+b&flag&&z=%E2%82%AC");
    assertThat(v.queryParameter("x")).isEqualTo("1");
    assertThat(v.queryParameter("y")).isEqualTo("A b");
    assertThat(v.queryParameter("flag")).isEmpty();
    assertThat(v.queryParameter("z")).isEqualTo("\u20ac");
    assertThat(v.queryParameter("w")).isNull();
  }

  @Test
  void query_badPercentEncodingAnywhere_makesTheWholeQueryUnreadable() {
    assertThat(new View(List.of(), "x=1&bad=%zz").queryParameter("x")).isNull();
    assertThat(new View(List.of(), "x=1&bad=%4").queryParameter("x")).isNull();
    assertThat(new View(List.of(), null).queryParameter("x")).isNull();
  }

  @Test
  void toString_showsMethodPathAndPeer_neverCookies() {
    View v = new View(List.of("secret=hunter2"), "token=abc");
    assertThat(v.cookie("secret")).isEqualTo("hunter2");
    assertThat(v.toString()).contains("GET /chat").contains("127.0.0.1").doesNotContain("hunter2");
    assertThat(v.toString()).doesNotContain("abc");
  }
}

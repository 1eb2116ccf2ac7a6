package dev.affinity.internal.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HopByHopTest {
  @Test
  void connectionOptions_splitCommaListsAcrossValues_lowerCase_dropWhitespaceAndEmpties() {
    assertThat(HopByHop.connectionOptions(List.of("keep-alive, X-Trace ,,Upgrade", "\tFoo")))
        .containsExactlyInAnyOrder("keep-alive", "x-trace", "upgrade", "foo");
    assertThat(HopByHop.connectionOptions(List.of())).isEmpty();
    assertThat(HopByHop.connectionOptions(List.of(" , "))).isEmpty();
  }

  @Test
  void isHopByHop_theSevenFixedFields_inAnyCase() {
    for (String name :
        List.of(
            "Connection",
            "KEEP-ALIVE",
            "proxy-connection",
            "TE",
            "Trailer",
            "Transfer-Encoding",
            "upgrade")) {
      assertThat(HopByHop.isHopByHop(name, Set.of())).as(name).isTrue();
    }
  }

  @Test
  void isHopByHop_whatConnectionNames_andNothingElse() {
    Set<String> options = HopByHop.connectionOptions(List.of("close, X-Trace"));
    assertThat(HopByHop.isHopByHop("x-trace", options)).isTrue();
    assertThat(HopByHop.isHopByHop("X-TRACE", options)).isTrue();
    assertThat(HopByHop.isHopByHop("Content-Length", options)).isFalse();
    assertThat(HopByHop.isHopByHop("Cookie", options)).isFalse();
    assertThat(HopByHop.isHopByHop("X-Trace", Set.of())).isFalse();
  }

  @Test
  void isHopByHop_forwardedHeadersAreNot_theAdaptersReplaceThem() {
    for (String name : List.of("Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "Via")) {
      assertThat(HopByHop.isHopByHop(name, Set.of())).as(name).isFalse();
    }
  }

  @Test
  void nullArguments_areRefusedByName() {
    assertThatThrownBy(() -> HopByHop.isHopByHop(null, Set.of())).hasMessage("fieldName");
    assertThatThrownBy(() -> HopByHop.connectionOptions(null)).hasMessage("connectionHeaderValues");
  }
}

package dev.affinity.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ErrorAnswerTest {
  @Test
  void body_isStatusSpaceMessageNewline() {
    assertThat(new String(ErrorAnswer.body(503, "no backend available"), StandardCharsets.UTF_8))
        .isEqualTo("503 no backend available\n");
  }

  @Test
  void requestBodyTooLarge_namesTheLimit() {
    assertThat(ErrorAnswer.requestBodyTooLarge(10L << 20))
        .isEqualTo("request body too large (limit 10485760 bytes)");
  }
}

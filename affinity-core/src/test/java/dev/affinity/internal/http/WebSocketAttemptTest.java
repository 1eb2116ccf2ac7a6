package dev.affinity.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WebSocketAttemptTest {
  private static boolean attempt(Map<String, List<String>> headers) {
    return WebSocketAttempt.is(
        name -> headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of()));
  }

  @Test
  void upgradeWebsocketToken_orAnyWebSocketField_isAnAttempt() {
    assertThat(attempt(Map.of("upgrade", List.of("h2c, WebSocket")))).isTrue();
    assertThat(attempt(Map.of("sec-websocket-key", List.of("x")))).isTrue();
    assertThat(attempt(Map.of("sec-websocket-version", List.of("8")))).isTrue();
  }

  @Test
  void plainRequests_areNot() {
    assertThat(attempt(Map.of())).isFalse();
    assertThat(attempt(Map.of("upgrade", List.of("h2c")))).isFalse();
    assertThat(attempt(Map.of("upgrade", List.of("websocketx")))).isFalse();
    assertThat(attempt(Map.of("connection", List.of("upgrade")))).isFalse();
  }
}

package dev.affinity.internal.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.AffinityConfigurationException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class AdapterSettingsTest {
  @Test
  void idleTimeout_zeroDisables_elseOneMillisecondToSevenDays() {
    assertThat(AdapterSettings.idleTimeout("idleTimeout", Duration.ZERO)).isZero();
    assertThat(AdapterSettings.idleTimeout("idleTimeout", Duration.ofDays(7)))
        .isEqualTo(Duration.ofDays(7));
    assertThatThrownBy(() -> AdapterSettings.idleTimeout("idleTimeout", Duration.ofDays(8)))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("idleTimeout: PT192H (expected: PT0S (disabled) or 1ms..7d)");
    assertThatThrownBy(() -> AdapterSettings.idleTimeout("idleTimeout", Duration.ofNanos(1)))
        .hasMessage("idleTimeout: PT0.000000001S (expected: PT0S (disabled) or 1ms..7d)");
  }

  @Test
  void tlsCheckInterval_zeroOnlyOnReload_elseOneMillisecondToOneHour() {
    assertThat(AdapterSettings.tlsCheckInterval(Duration.ZERO)).isZero();
    assertThat(AdapterSettings.tlsCheckInterval(Duration.ofHours(1)))
        .isEqualTo(Duration.ofHours(1));
    assertThatThrownBy(() -> AdapterSettings.tlsCheckInterval(Duration.ofHours(2)))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("tlsCheckInterval: PT2H (expected: 1ms..1h)");
    assertThatThrownBy(() -> AdapterSettings.tlsCheckInterval(Duration.ofMillis(-1)))
        .hasMessage("tlsCheckInterval: PT-0.001S (expected: 1ms..1h)");
  }

  @Test
  void timeout_oneMillisecondToOneHour() {
    assertThat(AdapterSettings.timeout("connectTimeout", Duration.ofHours(1)))
        .isEqualTo(Duration.ofHours(1));
    assertThatThrownBy(() -> AdapterSettings.timeout("connectTimeout", Duration.ZERO))
        .hasMessage("connectTimeout: PT0S (expected: 1ms..1h)");
    assertThatThrownBy(() -> AdapterSettings.timeout("handshakeTimeout", null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("handshakeTimeout");
  }

  @Test
  void closeArguments_refuseCodesACloseFrameMayNotCarry() {
    AdapterSettings.closeArguments(1000, "");
    AdapterSettings.closeArguments(4999, "bye");
    for (int code : new int[] {999, 1005, 1006, 1015, 5000}) {
      assertThatThrownBy(() -> AdapterSettings.closeArguments(code, "x"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("webSocketCode: " + code + " (expected: 1000..4999, not 1005, 1006 or 1015)");
    }
    assertThatThrownBy(() -> AdapterSettings.closeArguments(1000, null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("reason");
  }

  @Test
  void httpSettings_defaults_andBounds() {
    assertThat(AdapterSettings.DEFAULT_HTTP_MAX_CONNECTIONS_PER_BACKEND).isEqualTo(64);
    assertThat(AdapterSettings.DEFAULT_HTTP_RESPONSE_TIMEOUT)
        .as("longer than Engine.IO's 25 s long-poll")
        .isGreaterThan(Duration.ofSeconds(25));
    assertThat(AdapterSettings.DEFAULT_HTTP_MAX_REQUEST_BODY_BYTES).isEqualTo(10L * 1024 * 1024);
    assertThat(AdapterSettings.httpMaxConnectionsPerBackend(1)).isEqualTo(1);
    assertThat(AdapterSettings.httpMaxConnectionsPerBackend(10_000)).isEqualTo(10_000);
    for (int bad : new int[] {0, -1, 10_001}) {
      assertThatThrownBy(() -> AdapterSettings.httpMaxConnectionsPerBackend(bad))
          .isInstanceOf(AffinityConfigurationException.class)
          .hasMessage("httpMaxConnectionsPerBackend: " + bad + " (expected: 1..10000)");
    }
    assertThat(AdapterSettings.httpMaxRequestBodyBytes(1)).isEqualTo(1);
    assertThatThrownBy(() -> AdapterSettings.httpMaxRequestBodyBytes(0))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("httpMaxRequestBodyBytes: 0 (expected: >= 1)");
    assertThatThrownBy(() -> AdapterSettings.httpResponseTimeout(Duration.ZERO))
        .hasMessage("httpResponseTimeout: PT0S (expected: 1ms..1h)");
    assertThat(AdapterSettings.httpPoolIdleTimeout(Duration.ZERO)).isZero();
    assertThatThrownBy(() -> AdapterSettings.httpPoolIdleTimeout(Duration.ofDays(8)))
        .hasMessage("httpPoolIdleTimeout: PT192H (expected: PT0S (disabled) or 1ms..7d)");
  }
}

package dev.affinity.jetty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.Router;
import dev.affinity.SetCookie;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import java.time.Duration;
import org.eclipse.jetty.http.HttpCookie;
import org.junit.jupiter.api.Test;

class AffinityHandlerBuilderTest {
  private final Router router =
      Router.builder(BackendGroup.of(Backend.of("ws-1", "127.0.0.1", 9000))).build();

  @Test
  void build_withDefaults_proxiesWithLongTunnelIdleTimeout() {
    AffinityHandler h = AffinityHandler.builder(router).build();
    assertThat(h.mode()).isEqualTo(AffinityHandler.Mode.PROXY);
    assertThat(h.router()).isSameAs(router);
    assertThat(h.idleTimeout()).isEqualTo(Duration.ofHours(1));
    assertThat(h.connectTimeout()).isEqualTo(AffinityHandler.DEFAULT_CONNECT_TIMEOUT);
    assertThat(h.handshakeTimeout()).isEqualTo(AffinityHandler.DEFAULT_HANDSHAKE_TIMEOUT);
    assertThat(h.bufferSize()).isEqualTo(16 * 1024);
    assertThat(h.forwardedHeaders()).isTrue();
    assertThat(h.tunnels()).isEmpty();
    assertThat(h.toString())
        .isEqualTo(
            "AffinityHandler{mode=PROXY, router="
                + router
                + ", connectTimeout=PT5S, handshakeTimeout=PT10S, idleTimeout=PT1H,"
                + " tunnels=0}");
  }

  @Test
  void decideOnly_setsTheMode() {
    assertThat(AffinityHandler.builder(router).decideOnly().build().mode())
        .isEqualTo(AffinityHandler.Mode.DECIDE_ONLY);
  }

  @Test
  void setters_rejectOutOfRangeValues_namingTheField() {
    AffinityHandler.Builder b = AffinityHandler.builder(router);
    assertThatThrownBy(() -> b.connectTimeout(Duration.ZERO))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("connectTimeout: PT0S (expected: 1ms..1h)");
    assertThatThrownBy(() -> b.handshakeTimeout(Duration.ofDays(8)))
        .hasMessage("handshakeTimeout: PT192H (expected: 1ms..1h)");
    assertThatThrownBy(() -> b.idleTimeout(Duration.ofMillis(-1)))
        .hasMessage("idleTimeout: PT-0.001S (expected: PT0S (disabled) or 1ms..7d)");
    assertThatThrownBy(() -> b.idleTimeout(Duration.ofDays(8)))
        .hasMessage("idleTimeout: PT192H (expected: PT0S (disabled) or 1ms..7d)");
    assertThat(b.idleTimeout(Duration.ZERO).build().idleTimeout()).isZero();
    assertThatThrownBy(() -> b.bufferSize(100))
        .hasMessage("bufferSize: 100 (expected: 1024..1048576)");
    assertThatThrownBy(() -> b.maxRequestHeadBytes(10))
        .hasMessage("maxRequestHeadBytes: 10 (expected: 256..1048576)");
    assertThatThrownBy(() -> b.maxHeaderCount(2))
        .hasMessage("maxHeaderCount: 2 (expected: 8..10000)");
    assertThatThrownBy(() -> b.maxResponseHeadBytes(1 << 21))
        .hasMessage("maxResponseHeadBytes: 2097152 (expected: 256..1048576)");
    assertThatThrownBy(() -> b.maxErrorBodyBytes(-1))
        .hasMessage("maxErrorBodyBytes: -1 (expected: 0..16777216)");
    assertThatThrownBy(() -> b.connectTimeout(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("connectTimeout");
    assertThatThrownBy(() -> b.mode(null)).hasMessage("mode");
    assertThatThrownBy(() -> AffinityHandler.builder(null)).hasMessage("router");
  }

  @Test
  void serverBuilder_rejectsOutOfRangeValues_namingTheField() {
    AffinityServer.Builder b = AffinityServer.builder(AffinityHandler.builder(router).build());
    assertThatThrownBy(() -> b.port(65_536))
        .isInstanceOf(AffinityConfigurationException.class)
        .hasMessage("port: 65536 (expected: 0..65535)");
    assertThatThrownBy(() -> b.host(" "))
        .hasMessage("host: ' ' (expected: a host name or IP literal, or null)");
    assertThatThrownBy(() -> b.requestHeaderSize(100))
        .hasMessage("requestHeaderSize: 100 (expected: 256..1048576)");
    assertThatThrownBy(() -> AffinityServer.builder((AffinityHandler) null)).hasMessage("handler");
    assertThatThrownBy(() -> AffinityServer.builder((Router) null)).hasMessage("router");
  }

  @Test
  void toHttpCookie_carriesEveryAttribute() {
    SetCookie c =
        SetCookie.of("AFFINITY", "v1.abc")
            .withPath("/app")
            .withDomain("example.com")
            .withMaxAge(Duration.ofHours(2))
            .withSecure(true)
            .withHttpOnly(false)
            .withSameSite(SetCookie.SameSite.STRICT);
    HttpCookie h = AffinityHandler.toHttpCookie(c);
    assertThat(h.getName()).isEqualTo("AFFINITY");
    assertThat(h.getValue()).isEqualTo("v1.abc");
    assertThat(h.getPath()).isEqualTo("/app");
    assertThat(h.getDomain()).isEqualTo("example.com");
    assertThat(h.getMaxAge()).isEqualTo(7200);
    assertThat(h.isSecure()).isTrue();
    assertThat(h.isHttpOnly()).isFalse();
    assertThat(h.getSameSite()).isEqualTo(HttpCookie.SameSite.STRICT);

    HttpCookie session = AffinityHandler.toHttpCookie(SetCookie.of("A", "b"));
    assertThat(session.getMaxAge()).isEqualTo(-1);
    assertThat(session.getDomain()).isNull();
    assertThat(session.isHttpOnly()).isTrue();
    assertThat(session.getSameSite()).isEqualTo(HttpCookie.SameSite.LAX);
  }
}

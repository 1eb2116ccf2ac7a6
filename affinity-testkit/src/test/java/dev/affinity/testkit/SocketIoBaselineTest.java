package dev.affinity.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The baseline of the Socket.IO proxy scenarios ({@link HttpScenarios}): the same 200 clients with
 * their defaults straight to one real Socket.IO backend, no proxy. What the proxy must not make
 * worse.
 */
class SocketIoBaselineTest {
  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void socketIo_200ClientsDirectToOneBackend_allUpgrade_noSessionIdUnknown() {
    try (SocketIo.Backend sio = SocketIo.backend("sio-1");
        SocketIo.Clients run =
            SocketIo.clients(sio.port(), 200, 20, Duration.ofSeconds(90), false)) {
      List<SocketIo.ClientResult> results = run.awaitDone(Duration.ofSeconds(150));
      assertThat(results).hasSize(200);
      for (SocketIo.ClientResult r : results) {
        assertThat(r.pollingBackend()).as("%s", r).isEqualTo("sio-1");
        assertThat(r.upgraded()).as("%s", r).isTrue();
        assertThat(r.upgradedBackend()).as("%s", r).isEqualTo("sio-1");
        assertThat(r.echoes()).as("%s", r).isEqualTo(20);
        assertThat(r.connectErrors()).as("%s", r).isZero();
      }
      assertThat(sio.sessionIdUnknown()).isZero();
      assertThat(sio.connections()).isEqualTo(200);
      assertThat(sio.upgrades()).isEqualTo(200);
    }
  }

  @Test
  void nodeDir_withoutPackages_namesTheInstallCommand() {
    String saved = System.getProperty("affinity.node.dir");
    try {
      System.setProperty("affinity.node.dir", "/nonexistent-affinity-node-dir");
      org.assertj.core.api.Assertions.assertThatThrownBy(NodeProcess::nodeDir)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("affinity.node.dir");
    } finally {
      if (saved == null) {
        System.clearProperty("affinity.node.dir");
      } else {
        System.setProperty("affinity.node.dir", saved);
      }
    }
  }
}

package dev.affinity.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.testkit.RawConnection;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.server.Server;
import org.junit.jupiter.api.Test;

/**
 * One connection's bytes never reach another's request head. Jetty 12.1's HTTP/1 parser can hand a
 * request buffer back to its pool twice after a malformed request; with a pooled server buffer, the
 * next two connections then shared it. The differential fuzz found it on CI: a 200-byte request
 * right after an oversized one was answered 431, and another was closed unanswered. {@link
 * AffinityServer} therefore parses into unpooled buffers, and tunnels take theirs from a pool the
 * server's parser never sees.
 */
class JettyBufferIsolationTest {

  /**
   * How many oversized-then-small pairs the second test sends. Before the fix, the race answered 4
   * small requests in 20 000 pairs with 431 on a loaded 2-core machine (and none of 40 000 after);
   * this bound keeps the test to a few seconds, so it catches a regression on a loaded machine
   * often rather than always. The first test pins the configuration itself.
   */
  static final int PAIRS = 1_500;

  @Test
  void jettyParsesIntoUnpooledBuffers_andTunnelsTakeAPoolOfTheirOwn() throws Exception {
    Router router = router();
    ArrayByteBufferPool.Tracking tracking = new ArrayByteBufferPool.Tracking();
    AffinityServer server =
        AffinityServer.builder(AffinityHandler.builder(router).build())
            .host("127.0.0.1")
            .byteBufferPool(tracking)
            .build()
            .start();
    try {
      AffinityHandler handler = (AffinityHandler) server.server().getHandler();
      assertThat(server.server().getByteBufferPool()).isInstanceOf(ByteBufferPool.NonPooling.class);
      assertThat(handler.buffers()).isSameAs(tracking);
    } finally {
      server.close();
    }

    // The handler's own builder wins over the server's offer.
    ArrayByteBufferPool own = new ArrayByteBufferPool();
    AffinityServer named =
        AffinityServer.builder(AffinityHandler.builder(router).byteBufferPool(own).build())
            .host("127.0.0.1")
            .byteBufferPool(tracking)
            .build()
            .start();
    try {
      assertThat(((AffinityHandler) named.server().getHandler()).buffers()).isSameAs(own);
    } finally {
      named.close();
    }

    // Embedded in a plain Jetty server: a pool of the handler's own, not the server's.
    Server plain = new Server();
    AffinityHandler embedded = AffinityHandler.builder(router).build();
    plain.setHandler(embedded);
    plain.start();
    try {
      assertThat(embedded.buffers())
          .isInstanceOf(ArrayByteBufferPool.class)
          .isNotSameAs(plain.getByteBufferPool());
    } finally {
      plain.stop();
    }
  }

  @Test
  void aSmallRequestAfterAnOversizedOne_getsItsOwnAnswer() throws Exception {
    AffinityServer server = AffinityServer.builder(router()).host("127.0.0.1").build().start();
    try {
      String oversized = RawConnection.upgradeRequest("/big", "X-Filler: " + "f".repeat(18_000));
      // A WebSocket attempt with another method: 400 from the shared rules, after a full parse.
      String small = RawConnection.upgradeRequest("/small").replaceFirst("GET", "DELETE");
      List<String> wrong = new ArrayList<>();
      for (int i = 0; i < PAIRS && wrong.size() < 5; i++) {
        try (RawConnection c = RawConnection.open(server.port())) {
          try {
            c.send(oversized);
            c.readResponseHead();
          } catch (UncheckedIOException e) {
            // Jetty answers 431 and closes before reading it all; a reset may overtake the answer.
          }
        }
        try (RawConnection c = RawConnection.open(server.port())) {
          String answer;
          try {
            RawConnection.Response head = c.send(small).readResponseHead();
            answer =
                head.statusLine()
                    + " / "
                    + new String(c.readToEnd(4096), StandardCharsets.UTF_8).trim();
          } catch (UncheckedIOException e) {
            answer = "(no answer: " + e.getMessage() + ")";
          }
          if (!answer.equals("HTTP/1.1 400 Bad Request / 400 a WebSocket upgrade must be a GET")) {
            wrong.add("pair " + i + ": " + answer);
          }
        }
      }
      assertThat(wrong).as("small requests answered other than by their own rule").isEmpty();
    } finally {
      server.close();
    }
  }

  private static Router router() {
    // No request here reaches a backend: every one is refused before routing.
    return Router.builder(BackendGroup.of(List.of(Backend.of("unused", "127.0.0.1", 9)))).build();
  }
}

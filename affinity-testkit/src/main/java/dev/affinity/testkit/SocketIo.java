package dev.affinity.testkit;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Real Socket.IO parts for proxy tests, run with Node.js from the testkit's node directory (see
 * {@link NodeProcess}): {@link #backend(String)} starts a {@code socket.io} server on 127.0.0.1
 * that announces its id, and {@link #clients} runs {@code socket.io-client} clients with their
 * default transports (polling first, then the upgrade to WebSocket).
 *
 * <pre>{@code
 * try (SocketIo.Backend sio = SocketIo.backend("sio-1");
 *     SocketIo.Clients run = SocketIo.clients(sio.port(), 200, 20, Duration.ofSeconds(60), false)) {
 *   List<SocketIo.ClientResult> results = run.awaitDone(Duration.ofSeconds(90));
 *   assertThat(sio.sessionIdUnknown()).isZero();
 * }
 * }</pre>
 */
public final class SocketIo {
  /** How long a Node process may take to start listening. */
  private static final Duration START = Duration.ofSeconds(30);

  private SocketIo() {}

  /**
   * Starts a Socket.IO backend announcing {@code id} on an ephemeral port of 127.0.0.1.
   *
   * @throws IllegalStateException if Node.js or the packages are missing
   * @throws AssertionError if it does not listen within 30 seconds
   */
  public static Backend backend(String id) {
    NodeProcess p = NodeProcess.start(id, "backend.js", List.of("--id", requireNonNull(id, "id")));
    try {
      int port = p.awaitLine("listening line", START, l -> l.has("port")).get("port").asInt();
      return new Backend(id, port, p);
    } catch (RuntimeException | AssertionError e) {
      p.close();
      throw e;
    }
  }

  /**
   * Starts {@code clients} Socket.IO clients at once against {@code http://127.0.0.1:<port>}, each
   * sending {@code echoes} echo events after its upgrade and giving up after {@code deadline}. With
   * {@code hold} they stay connected after reporting, and report disconnects and reconnects, until
   * {@link Clients#close()}.
   */
  public static Clients clients(
      int port, int clients, int echoes, Duration deadline, boolean hold) {
    List<String> args = new ArrayList<>();
    args.add("--url");
    args.add("http://127.0.0.1:" + port);
    args.add("--clients");
    args.add(Integer.toString(clients));
    args.add("--echoes");
    args.add(Integer.toString(echoes));
    args.add("--deadline-ms");
    args.add(Long.toString(deadline.toMillis()));
    if (hold) {
      args.add("--hold");
    }
    return new Clients(NodeProcess.start("clients", "client.js", args), clients);
  }

  /** A running Socket.IO backend. */
  public static final class Backend implements AutoCloseable {
    private final String id;
    private final int port;
    private final NodeProcess process;

    Backend(String id, int port, NodeProcess process) {
      this.id = id;
      this.port = port;
      this.process = process;
    }

    /** The id it announces ({@code hello} and every echo acknowledgement). */
    public String id() {
      return id;
    }

    /** Its port on 127.0.0.1. */
    public int port() {
      return port;
    }

    /** The sessions it opened so far (Engine.IO handshakes). */
    public int connections() {
      return process.events("connection").size();
    }

    /** The sessions that upgraded to WebSocket on it so far. */
    public int upgrades() {
      return process.events("upgrade").size();
    }

    /**
     * The requests it refused with {@code 400 {"code":1,"message":"Session ID unknown"}}: a poll or
     * upgrade for a session another backend holds.
     */
    public int sessionIdUnknown() {
      int n = 0;
      for (JsonNode l : process.events("connection_error")) {
        if (l.path("code").asInt() == 1) {
          n++;
        }
      }
      return n;
    }

    /** Every connection error it reported (any Engine.IO code). */
    public List<JsonNode> connectionErrors() {
      return process.events("connection_error");
    }

    /** Kills it at once (SIGKILL), as a crash would. */
    public void kill() {
      process.kill();
    }

    /** Kills it. */
    @Override
    public void close() {
      process.close();
    }

    @Override
    public String toString() {
      return "SocketIo.Backend{" + id + " on 127.0.0.1:" + port + "}";
    }
  }

  /** A run of Socket.IO clients. */
  public static final class Clients implements AutoCloseable {
    private final NodeProcess process;
    private final int count;

    Clients(NodeProcess process, int count) {
      this.process = process;
      this.count = count;
    }

    /**
     * Waits until every client has reported, and returns their results in client order.
     *
     * @throws AssertionError if they have not within {@code timeout}
     */
    public List<ClientResult> awaitDone(Duration timeout) {
      process.awaitLine("done line", timeout, l -> "done".equals(l.path("event").asText()));
      return results();
    }

    /** The clients that have reported so far, in client order. */
    public List<ClientResult> results() {
      List<ClientResult> out = new ArrayList<>();
      for (JsonNode l : process.events("client")) {
        out.add(new ClientResult(l));
      }
      out.sort((a, b) -> Integer.compare(a.client(), b.client()));
      return out;
    }

    /** The number of clients started. */
    public int count() {
      return count;
    }

    /** In a hold run: the disconnects reported so far ({@code client}, {@code reason}). */
    public List<JsonNode> disconnects() {
      return process.events("disconnect");
    }

    /**
     * In a hold run: the reconnects reported so far ({@code client}, {@code backend} of the new
     * session's hello, {@code sid}, {@code echo}: the backend that acknowledged an echo on it).
     */
    public List<JsonNode> reconnects() {
      return process.events("reconnect");
    }

    /** The client process's stderr, for failure messages. */
    public String stderr() {
      return process.stderr();
    }

    /** Kills the client process. */
    @Override
    public void close() {
      process.close();
    }
  }

  /** What one client reported. */
  public static final class ClientResult {
    private final JsonNode line;

    ClientResult(JsonNode line) {
      this.line = line;
    }

    /** The client's number, 0-based. */
    public int client() {
      return line.path("client").asInt();
    }

    /** Its first Engine.IO session id, or null if it never connected. */
    public @Nullable String sid() {
      return NodeProcess.text(line, "sid");
    }

    /** The backend whose hello it received while polling, or null. */
    public @Nullable String pollingBackend() {
      return NodeProcess.text(line, "pollingBackend");
    }

    /** The backend that acknowledged its first echo over WebSocket, or null. */
    public @Nullable String upgradedBackend() {
      return NodeProcess.text(line, "upgradedBackend");
    }

    /** Whether its transport was WebSocket after the upgrade wait. */
    public boolean upgraded() {
      return line.path("upgraded").asBoolean();
    }

    /** Its transport when it reported, or null. */
    public @Nullable String transport() {
      return NodeProcess.text(line, "transport");
    }

    /** How many echoes were acknowledged with the right number. */
    public int echoes() {
      return line.path("echoes").asInt();
    }

    /** The backends that acknowledged its echoes. */
    public List<String> echoBackends() {
      List<String> out = new ArrayList<>();
      line.path("echoBackends").forEach(n -> out.add(n.asText()));
      return out;
    }

    /** Its {@code connect_error} events. */
    public int connectErrors() {
      return line.path("connectErrors").asInt();
    }

    /** Its {@code disconnect} events before it reported. */
    public int disconnects() {
      return line.path("disconnects").asInt();
    }

    /** Its reconnects before it reported. */
    public int reconnects() {
      return line.path("reconnects").asInt();
    }

    @Override
    public String toString() {
      return line.toString();
    }
  }
}

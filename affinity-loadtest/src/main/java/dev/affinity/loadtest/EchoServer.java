package dev.affinity.loadtest;

import dev.affinity.testkit.EchoBackend;

/**
 * Echo backends for benchmarks, from the command line: each announces {@code backend:<id>} as its
 * first text frame, then echoes every text and binary frame. Binds 127.0.0.1 only. The backend
 * itself is the testkit's {@link EchoBackend}, the same one the adapter tests use.
 *
 * <pre>{@code java -cp affinity-loadtest.jar dev.affinity.loadtest.EchoServer ws-1 9001}</pre>
 */
public final class EchoServer implements AutoCloseable {
  private final EchoBackend backend;

  private EchoServer(EchoBackend backend) {
    this.backend = backend;
  }

  /** Starts a backend on 127.0.0.1:{@code port} (0 for an ephemeral port). */
  public static EchoServer start(String id, int port, int threads) {
    return new EchoServer(EchoBackend.builder(id).port(port).threads(threads).start());
  }

  /** The bound port. */
  public int port() {
    return backend.port();
  }

  @Override
  public void close() {
    backend.close();
  }

  /** Runs backends {@code id port [id port ...]} until killed; prints "ready" when bound. */
  public static void main(String[] args) throws Exception {
    if (args.length == 0 || args.length % 2 != 0) {
      System.err.println("usage: EchoServer <id> <port> [<id> <port> ...]");
      System.exit(2);
    }
    for (int i = 0; i < args.length; i += 2) {
      EchoServer s = start(args[i], Integer.parseInt(args[i + 1]), 1);
      System.out.println("backend " + args[i] + " listening on 127.0.0.1:" + s.port());
    }
    System.out.println("ready");
    Thread.currentThread().join();
  }
}

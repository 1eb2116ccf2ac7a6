package dev.affinity.examples;

import dev.affinity.proxy.AffinityProxy;
import dev.affinity.proxy.ProxyCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts the demo in this JVM through the same code path as {@code java -jar
 * affinity-examples.jar}, on ephemeral loopback ports, for tests.
 */
public final class DemoLauncher implements AutoCloseable {
  private final ProxyCommand.Running running;
  private final StringWriter out;

  private DemoLauncher(ProxyCommand.Running running, StringWriter out) {
    this.running = running;
    this.out = out;
  }

  /** Starts the demo with {@code extraFlags} added to ephemeral proxy and page ports. */
  public static DemoLauncher start(String... extraFlags) {
    List<String> args =
        new ArrayList<>(List.of("--demo", "--listen", "127.0.0.1:0", "--demo-page", "127.0.0.1:0"));
    args.addAll(List.of(extraFlags));
    ProxyCommand command = new ProxyCommand(AffinityExamples.DEMO);
    StringWriter out = new StringWriter();
    PrintWriter w = new PrintWriter(out, true);
    AffinityProxy.commandLine(command, w, w).parseArgs(args.toArray(new String[0]));
    return new DemoLauncher(command.start(w, w), out);
  }

  /** The demo page's URL. */
  public String pageUrl() {
    return java.util.Objects.requireNonNull(running.pageUrl(), "pageUrl");
  }

  /** The proxy's address. */
  public InetSocketAddress proxyAddress() {
    return running.proxyAddress();
  }

  /** What the command printed so far. */
  public String output() {
    return out.toString();
  }

  @Override
  public void close() {
    running.close();
  }
}

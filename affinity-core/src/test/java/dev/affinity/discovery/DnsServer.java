package dev.affinity.discovery;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real DNS server for tests: Debian's {@code dnsmasq} on a free loopback port, answering from a
 * hosts file the test rewrites ({@link #setHosts}, then SIGHUP) and fixed SRV records.
 */
final class DnsServer implements AutoCloseable {
  private final Path dir;
  private final Path hosts;
  private final int port;
  private final Process process;

  private DnsServer(Path dir, Path hosts, int port, Process process) {
    this.dir = dir;
    this.hosts = hosts;
    this.port = port;
    this.process = process;
  }

  /**
   * Starts dnsmasq with {@code hostsLines} ({@code "10.0.0.1 name"}) and SRV records ({@code
   * "_ws._tcp.svc.test,target.test,8080,0,5"}).
   */
  static DnsServer start(List<String> hostsLines, List<String> srvRecords) throws IOException {
    Path dir = Files.createTempDirectory("affinity-dns");
    Path hosts = dir.resolve("hosts");
    Files.write(hosts, hostsLines, UTF_8);
    int port = freePort();
    List<String> cmd = new ArrayList<>();
    cmd.add(binary());
    cmd.add("--no-daemon");
    cmd.add("--port=" + port);
    cmd.add("--listen-address=127.0.0.1");
    cmd.add("--bind-interfaces");
    cmd.add("--no-resolv");
    // Authoritative for .test: unknown names get NXDOMAIN, not REFUSED (there is no upstream).
    cmd.add("--local=/test/");
    cmd.add("--no-hosts");
    cmd.add("--conf-file=/dev/null");
    cmd.add("--pid-file=");
    cmd.add("--cache-size=0");
    cmd.add("--local-ttl=0");
    cmd.add("--addn-hosts=" + hosts);
    for (String srv : srvRecords) {
      cmd.add("--srv-host=" + srv);
    }
    if ("root".equals(System.getProperty("user.name"))) {
      cmd.add("--user=root");
    }
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("dnsmasq.log").toFile())
            .start();
    DnsServer server = new DnsServer(dir, hosts, port, p);
    server.awaitReady();
    return server;
  }

  /** Waits until dnsmasq answers a query (any answer, NXDOMAIN included). */
  private void awaitReady() throws IOException {
    BackendSource probe = BackendSource.dns("ready.probe.test", 1, address());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    IOException last = null;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("dnsmasq exited: " + log());
      }
      try {
        probe.backends();
        return;
      } catch (IOException e) {
        last = e; // not listening yet
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
      }
    }
    process.destroyForcibly();
    throw new IOException("dnsmasq did not answer: " + log(), last);
  }

  private static String binary() throws IOException {
    for (String candidate : List.of("/usr/sbin/dnsmasq", "/usr/bin/dnsmasq", "/sbin/dnsmasq")) {
      if (Files.isExecutable(Path.of(candidate))) {
        return candidate;
      }
    }
    throw new IOException("dnsmasq is not installed (apt-get install dnsmasq-base)");
  }

  private static int freePort() throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      try (DatagramSocket udp = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
        int port = udp.getLocalPort();
        try (ServerSocket tcp = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
          return tcp.getLocalPort(); // the same port is free for TCP too
        } catch (IOException taken) {
          // try another
        }
      }
    }
    throw new IOException("no free UDP+TCP loopback port");
  }

  InetSocketAddress address() {
    return new InetSocketAddress("127.0.0.1", port);
  }

  /** Replaces the A/AAAA records and tells dnsmasq to reload them. */
  void setHosts(List<String> hostsLines) throws IOException, InterruptedException {
    Files.write(hosts, hostsLines, UTF_8);
    Process hup =
        new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).inheritIO().start();
    if (hup.waitFor() != 0) {
      throw new IOException("kill -HUP failed");
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  String log() throws IOException {
    return Files.readString(dir.resolve("dnsmasq.log"), UTF_8);
  }

  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

package dev.affinity.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.jetty.AffinityServer;
import dev.affinity.netty.AffinityProxyServer;
import dev.affinity.testkit.HandshakeFuzz;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * The differential fuzz of the handshake contract: the same random request heads, sent as raw bytes
 * over a socket to the Netty adapter ({@link AffinityProxyServer}) and to the Jetty adapter ({@link
 * AffinityServer}), both in front of one raw backend, must get identical status lines, and the
 * backend must receive identical request heads from both.
 *
 * <p>The generator ({@link #generate}, seeded, so a failure names a reproducible case) draws, per
 * case: 45% a valid upgrade (random path and query, absolute-form targets, header-name case and
 * order, {@code Connection}/{@code Upgrade} token lists, optional extra and spoofed forwarded
 * fields, a path the backend answers 403 to); 45% a valid upgrade with one mutation (a required
 * field removed, doubled or broken, another method or version, a body, a control character in a
 * value, a bad request target, too many fields, a plain GET, a duplicate key); 10% oversized (a
 * header value or request target past both adapters' limits). Bound: {@value #CASES} cases, the
 * issue's minimum for this test; the run takes well under a minute on loopback.
 *
 * <p>The raw backend records each head and answers {@code 101} (or {@code 403} to paths starting
 * {@code /err}), then closes. Heads are compared after the one part that must differ: the port each
 * adapter listens on ({@code X-Forwarded-Port}).
 */
class AdapterDifferentialFuzzTest {
  /** How many random handshakes each adapter gets. */
  static final int CASES = 5_000;

  private static final long SEED = 0x5eed_0012L;

  @Test
  void sameHandshakes_getTheSameStatusLines_andTheBackendSeesTheSameHeads() throws Exception {
    try (RawBackend backend = new RawBackend()) {
      BackendGroup group = BackendGroup.of(List.of(Backend.of("raw", "127.0.0.1", backend.port())));
      Router router = Router.builder(group).build();
      AffinityProxyServer netty =
          AffinityProxyServer.builder(router)
              .host("127.0.0.1")
              .port(0)
              .ioThreads(1)
              .build()
              .start();
      AffinityServer jetty =
          AffinityServer.builder(router).host("127.0.0.1").port(0).build().start();
      try {
        Random random = new Random(SEED);
        List<String> differences = new ArrayList<>();
        int upgraded = 0;
        for (int i = 0; i < CASES; i++) {
          byte[] request = generate(random).getBytes(StandardCharsets.ISO_8859_1);
          Exchange n = exchange(netty.port(), request, backend);
          Exchange j = exchange(jetty.port(), request, backend);
          String nHead = normalize(n.backendHead, netty.port());
          String jHead = normalize(j.backendHead, jetty.port());
          if (!n.statusLine.equals(j.statusLine) || !nHead.equals(jHead)) {
            differences.add(
                "case "
                    + i
                    + ": "
                    + HandshakeFuzz.printable(new String(request, StandardCharsets.ISO_8859_1))
                    + "\n  netty: "
                    + n.statusLine
                    + "\n  jetty: "
                    + j.statusLine
                    + "\n  "
                    + firstDifference(nHead, jHead));
          }
          if (n.statusLine.startsWith("HTTP/1.1 101")) {
            upgraded++;
          }
        }
        System.out.printf(
            "differential handshake fuzz: %d cases (seed %#x), %d upgraded, %d differences%n",
            CASES, SEED, upgraded, differences.size());
        java.nio.file.Files.write(
            java.nio.file.Path.of("target", "adapter-differential-fuzz.txt"), differences);
        assertThat(differences.subList(0, Math.min(5, differences.size())))
            .as("cases answered differently (all in target/adapter-differential-fuzz.txt)")
            .isEmpty();
        assertThat(upgraded).as("valid cases reached the backend").isGreaterThan(CASES / 4);
      } finally {
        netty.close();
        jetty.close();
      }
    }
  }

  // ---------------------------------------------------------------- the generator

  private static final String[] EXTRA_NAMES = {
    "Origin",
    "User-Agent",
    "Accept",
    "Cookie",
    "X-Request-Id",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
    "Pragma",
    "Cache-Control",
    "Accept-Language"
  };

  private static final String[] SPOOFED = {
    "X-Forwarded-For: 6.6.6.6",
    "X-Forwarded-Proto: https",
    "X-Forwarded-Host: bank.example",
    "X-Forwarded-Port: 443",
    "Forwarded: for=6.6.6.6;proto=https",
    "X-Forwarded-For: 1.2.3.4, 5.6.7.8"
  };

  private static final String PATH_CHARS =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@%/";

  private static final String VALUE_CHARS =
      "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?\"<>{}[]|^`#";

  /** One request head (plus, for some mutations, bytes after it); see the class comment. */
  static String generate(Random r) {
    List<String> fields = new ArrayList<>();
    fields.add(name("Host", r) + ": " + pick(r, "127.0.0.1", "example.com", "chat.example:8443"));
    fields.add(name("Upgrade", r) + ": " + pick(r, "websocket", "WebSocket", "websocket, h2c"));
    fields.add(name("Connection", r) + ": " + pick(r, "Upgrade", "upgrade", "keep-alive, Upgrade"));
    fields.add(name("Sec-WebSocket-Key", r) + ": " + key(r));
    fields.add(name("Sec-WebSocket-Version", r) + ": 13");
    int extras = r.nextInt(6);
    for (int i = 0; i < extras; i++) {
      fields.add(name(EXTRA_NAMES[r.nextInt(EXTRA_NAMES.length)], r) + ": " + value(r, 1, 40));
    }
    if (r.nextInt(4) == 0) {
      fields.add(SPOOFED[r.nextInt(SPOOFED.length)]);
    }
    shuffle(fields, r);
    String path = (r.nextInt(10) == 0 ? "/err" : "/") + word(r, 0, 30, PATH_CHARS);
    if (r.nextBoolean()) {
      path += "?" + word(r, 0, 30, PATH_CHARS + "?");
    }
    String target = r.nextInt(8) == 0 ? "http://example.com" + path : path;
    String method = "GET";
    String version = "HTTP/1.1";
    String tail = "";
    int kind = r.nextInt(100);
    if (kind >= 45 && kind < 90) {
      switch (r.nextInt(14)) {
        case 0:
          fields.remove(r.nextInt(fields.size()));
          break;
        case 1:
          fields.add(fields.get(r.nextInt(fields.size())));
          break;
        case 2:
          method = pick(r, "POST", "PUT", "HEAD", "OPTIONS", "DELETE");
          break;
        case 3:
          version = "HTTP/1.0";
          break;
        case 4:
          fields.add("Content-Length: " + (1 + r.nextInt(9)));
          tail = "x".repeat(9);
          break;
        case 5:
          fields.add("Transfer-Encoding: chunked");
          tail = "0\r\n\r\n";
          break;
        case 6:
          {
            int at = r.nextInt(fields.size());
            String f = fields.get(at);
            int colon = f.indexOf(':') + 2;
            int pos = colon + r.nextInt(Math.max(1, f.length() - colon));
            char ctl = pick(r, '\u0001', '\u0007', '\u001b', '\u007f', '\u0000');
            fields.set(at, f.substring(0, pos) + ctl + f.substring(pos));
            break;
          }
        case 7:
          target = pick(r, "chat", "*", "http://user@example.com/", "ftp://example.com/", "//x");
          break;
        case 8:
          for (int i = 0; i < 96 + r.nextInt(20); i++) {
            fields.add("X-Pad-" + i + ": " + i);
          }
          break;
        case 9:
          fields.removeIf(
              f -> {
                String n = f.substring(0, f.indexOf(':')).toLowerCase(Locale.ROOT);
                return n.equals("upgrade") || n.startsWith("sec-websocket");
              });
          break;
        case 10:
          replace(fields, "sec-websocket-version", pick(r, "8", "12", "14", "13, 8", ""));
          break;
        case 11:
          replace(fields, "sec-websocket-key", pick(r, "short", "dGhlIHNhbXBsZSBub25jZQ", "!!"));
          break;
        case 12:
          replace(fields, "connection", pick(r, "keep-alive", "close", ""));
          break;
        default:
          replace(fields, "host", "");
          break;
      }
    } else if (kind >= 90) {
      if (r.nextBoolean()) {
        fields.add("X-Filler: " + "f".repeat(9 * 1024 + r.nextInt(24 * 1024)));
      } else {
        target = "/" + "p".repeat(9 * 1024 + r.nextInt(8 * 1024));
      }
    }
    StringBuilder sb = new StringBuilder();
    sb.append(method).append(' ').append(target).append(' ').append(version).append("\r\n");
    for (String f : fields) {
      sb.append(f).append("\r\n");
    }
    return sb.append("\r\n").append(tail).toString();
  }

  private static void replace(List<String> fields, String lowerName, String value) {
    for (int i = 0; i < fields.size(); i++) {
      String f = fields.get(i);
      if (f.substring(0, f.indexOf(':')).toLowerCase(Locale.ROOT).equals(lowerName)) {
        fields.set(i, f.substring(0, f.indexOf(':')) + ": " + value);
      }
    }
  }

  private static String name(String name, Random r) {
    switch (r.nextInt(4)) {
      case 0:
        return name.toLowerCase(Locale.ROOT);
      case 1:
        return name.toUpperCase(Locale.ROOT);
      default:
        return name;
    }
  }

  private static String key(Random r) {
    byte[] b = new byte[16];
    r.nextBytes(b);
    return java.util.Base64.getEncoder().encodeToString(b);
  }

  private static String value(Random r, int min, int max) {
    String v = word(r, min, max, VALUE_CHARS).trim();
    return v.isEmpty() ? "v" : v;
  }

  private static String word(Random r, int min, int max, String chars) {
    int n = min + r.nextInt(max - min + 1);
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      sb.append(chars.charAt(r.nextInt(chars.length())));
    }
    return sb.toString();
  }

  @SafeVarargs
  private static <T> T pick(Random r, T... options) {
    return options[r.nextInt(options.length)];
  }

  private static void shuffle(List<String> fields, Random r) {
    for (int i = fields.size() - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      String t = fields.get(i);
      fields.set(i, fields.get(j));
      fields.set(j, t);
    }
  }

  // ---------------------------------------------------------------- one exchange

  private static final class Exchange {
    final String statusLine;
    final String backendHead;

    Exchange(String statusLine, String backendHead) {
      this.statusLine = statusLine;
      this.backendHead = backendHead;
    }
  }

  /**
   * Sends {@code request}, reads the status line (the adapter closes after any answer but a 101,
   * and the backend closes after its 101), and takes the head the backend recorded, if any. The
   * proxy relays a backend's answer only after the backend recorded the head, so an empty queue
   * after the status line means the backend saw nothing.
   */
  private static Exchange exchange(int port, byte[] request, RawBackend backend)
      throws IOException {
    backend.heads.clear();
    try (Socket s = new Socket()) {
      s.setSoTimeout(10_000);
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
      OutputStream out = s.getOutputStream();
      try {
        out.write(request);
        out.flush();
      } catch (IOException e) {
        // The adapter may answer and close before it read all of an oversized head.
      }
      String status = readLine(s.getInputStream());
      String head = backend.heads.poll();
      return new Exchange(status, head == null ? "(nothing)" : head);
    }
  }

  private static String readLine(InputStream in) {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    try {
      int b;
      while ((b = in.read()) >= 0 && b != '\n') {
        if (b != '\r') {
          line.write(b);
        }
      }
    } catch (SocketTimeoutException e) {
      return "(no answer within 10 s)";
    } catch (IOException e) {
      return line.size() == 0 ? "(reset)" : line.toString(StandardCharsets.ISO_8859_1);
    }
    return line.size() == 0 ? "(closed)" : line.toString(StandardCharsets.ISO_8859_1);
  }

  /** The first line where the two backend heads differ, or that they are the same. */
  private static String firstDifference(String netty, String jetty) {
    String[] n = netty.split("\r\n", -1);
    String[] j = jetty.split("\r\n", -1);
    for (int i = 0; i < Math.max(n.length, j.length); i++) {
      String a = i < n.length ? n[i] : "(end)";
      String b = i < j.length ? j[i] : "(end)";
      if (!a.equals(b)) {
        return "backend line "
            + i
            + ": netty "
            + HandshakeFuzz.printable(a)
            + " / jetty "
            + HandshakeFuzz.printable(b);
      }
    }
    return "same backend head";
  }

  /**
   * The head with field names in lower case (they are case-insensitive, RFC 9110 section 5.1, and
   * Jetty writes the fields it knows in their canonical case) and the adapter's own port (the one
   * value that must differ) replaced. Values and everything else are compared as sent.
   */
  static String normalize(String head, int proxyPort) {
    StringBuilder sb = new StringBuilder(head.length());
    for (String line : head.split("\r\n", -1)) {
      int colon = line.indexOf(':');
      if (sb.length() > 0 && colon > 0) {
        line = line.substring(0, colon).toLowerCase(Locale.ROOT) + line.substring(colon);
      }
      sb.append(line).append("\r\n");
    }
    return sb.toString().replace("x-forwarded-port: " + proxyPort, "x-forwarded-port: PORT");
  }

  // ---------------------------------------------------------------- the raw backend

  /**
   * A backend on 127.0.0.1 that reads one request head per connection, records it as text, answers
   * {@code 101} (or {@code 403} to {@code /err...}) and closes. One thread accepts and serves
   * connections one at a time, as the test sends them.
   */
  private static final class RawBackend implements AutoCloseable {
    final BlockingQueue<String> heads = new LinkedBlockingQueue<>();
    private final ServerSocket server;
    private final Thread thread;

    RawBackend() throws IOException {
      server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      thread = new Thread(this::serve, "raw-backend");
      thread.setDaemon(true);
      thread.start();
    }

    int port() {
      return server.getLocalPort();
    }

    private void serve() {
      while (!server.isClosed()) {
        try (Socket s = server.accept()) {
          s.setSoTimeout(10_000);
          String head = readHead(s.getInputStream());
          if (head == null) {
            continue;
          }
          heads.add(head);
          String target = head.substring(head.indexOf(' ') + 1);
          String answer =
              target.startsWith("/err")
                  ? "HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\nConnection: close\r\n\r\nno\n"
                  : "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      + "Connection: Upgrade\r\n"
                      + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
          s.getOutputStream().write(answer.getBytes(StandardCharsets.ISO_8859_1));
          s.getOutputStream().flush();
        } catch (IOException e) {
          // A connection the proxy dropped; the next one is served.
        }
      }
    }

    private static @Nullable String readHead(InputStream in) throws IOException {
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      int matched = 0;
      int b;
      while ((b = in.read()) >= 0) {
        head.write(b);
        matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
        if (matched == 4) {
          return head.toString(StandardCharsets.ISO_8859_1);
        }
        if (head.size() > 256 * 1024) {
          return null;
        }
      }
      return null;
    }

    @Override
    public void close() throws IOException {
      server.close();
      try {
        thread.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}

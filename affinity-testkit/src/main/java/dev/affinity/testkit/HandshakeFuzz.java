package dev.affinity.testkit;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Handshake requests that a proxy must answer with a 4xx: a fixed list of known-bad requests and
 * random mutations of a valid upgrade, each guaranteed invalid (a required header removed or
 * broken, a control character injected, garbage, or an oversized head). Every request ends with a
 * blank line, so a proxy cannot wait for more.
 */
public final class HandshakeFuzz {
  private static final String[] REQUIRED = {
    "Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version"
  };

  private HandshakeFuzz() {}

  /** Known-bad requests: one of each kind. */
  public static List<String> fixedCases() {
    List<String> cases = new ArrayList<>();
    for (String header : REQUIRED) {
      cases.add(without(header));
    }
    cases.add(RawConnection.upgradeRequest("/").replace("GET ", "POST "));
    cases.add(RawConnection.upgradeRequest("/").replace("HTTP/1.1", "HTTP/1.0"));
    cases.add(RawConnection.upgradeRequest("/").replace("Version: 13", "Version: 8"));
    cases.add(RawConnection.upgradeRequest("/").replace("Upgrade: websocket", "Upgrade: h2c"));
    cases.add(
        RawConnection.upgradeRequest("/")
            .replace("dGhlIHNhbXBsZSBub25jZQ==", "not-base64-sixteen"));
    cases.add(RawConnection.upgradeRequest("/", "X-Big: " + "b".repeat(16 * 1024)));
    cases.add(RawConnection.upgradeRequest("/" + "p".repeat(16 * 1024)));
    cases.add(RawConnection.upgradeRequest("/", many(400)));
    cases.add("\u0000\u0001\u0002 garbage\r\n\r\n");
    cases.add("GET\r\n\r\n");
    cases.add("GET / HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n");
    cases.add(RawConnection.upgradeRequest("/", "Bad Header: x"));
    cases.add(RawConnection.upgradeRequest("/").replace("GET /", "GET /a b"));
    return cases;
  }

  /** A random mutation of a valid upgrade request that makes it invalid. */
  public static String mutate(Random random) {
    String valid = RawConnection.upgradeRequest("/path?q=" + random.nextInt(1000));
    switch (random.nextInt(5)) {
      case 0:
        return without(REQUIRED[random.nextInt(REQUIRED.length)]);
      case 1:
        {
          // A control character inside the request line or a required header (name or value).
          String[] lines = valid.split("\r\n", -1);
          int line = random.nextInt(REQUIRED.length + 1);
          String target = lines[line];
          int at = 1 + random.nextInt(target.length() - 1);
          char ctl =
              (char) (random.nextBoolean() ? random.nextInt(0x09) : 0x0e + random.nextInt(18));
          lines[line] = target.substring(0, at) + ctl + target.substring(at);
          return String.join("\r\n", lines);
        }
      case 2:
        {
          byte[] junk = new byte[1 + random.nextInt(200)];
          random.nextBytes(junk);
          for (int i = 0; i < junk.length; i++) {
            if (junk[i] == '\r' || junk[i] == '\n') {
              junk[i] = 0;
            }
          }
          junk[0] = (byte) (0x01 + random.nextInt(0x1f)); // never a method token
          return new String(junk, StandardCharsets.ISO_8859_1) + "\r\n\r\n";
        }
      case 3:
        return RawConnection.upgradeRequest(
            "/", "X-Filler: " + "f".repeat(9 * 1024 + random.nextInt(40 * 1024)));
      default:
        {
          String key = "Sec-WebSocket-Version: 13";
          return valid.replace(key, "Sec-WebSocket-Version: " + (14 + random.nextInt(200)));
        }
    }
  }

  /** The request with its control characters escaped, shortened for assertion messages. */
  public static String printable(String request) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < request.length() && sb.length() < 300; i++) {
      char c = request.charAt(i);
      if (c < 0x20 || c >= 0x7f) {
        sb.append(String.format("\\x%02x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return request.length() > 300 ? sb + "...(" + request.length() + " chars)" : sb.toString();
  }

  private static String without(String header) {
    StringBuilder sb = new StringBuilder();
    for (String line : RawConnection.upgradeRequest("/").split("\r\n", -1)) {
      if (!line.startsWith(header + ":")) {
        sb.append(line).append("\r\n");
      }
    }
    return sb.substring(0, sb.length() - 2);
  }

  private static String[] many(int n) {
    String[] lines = new String[n];
    for (int i = 0; i < n; i++) {
      lines[i] = "X-Many-" + i + ": " + "v".repeat(20);
    }
    return lines;
  }
}

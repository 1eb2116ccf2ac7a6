package dev.affinity.jetty;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A WebSocket handshake over a plain socket, to see the exact response head (status, every
 * Set-Cookie) that a WebSocket client library would hide. Jetty-specific tests only.
 */
final class RawHandshake implements AutoCloseable {
  static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";

  private final Socket socket;
  private final InputStream in;
  final int status;
  final List<String> headLines = new ArrayList<>();

  private RawHandshake(int port, String request) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(10_000);
    socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
    socket.getOutputStream().flush();
    in = socket.getInputStream();
    String statusLine = readLine();
    status = Integer.parseInt(statusLine.split(" ")[1]);
    for (String line = readLine(); !line.isEmpty(); line = readLine()) {
      headLines.add(line);
    }
  }

  static RawHandshake open(int port, String path, String... extraHeaders) throws IOException {
    StringBuilder sb = new StringBuilder("GET ").append(path).append(" HTTP/1.1\r\n");
    sb.append("Host: 127.0.0.1:").append(port).append("\r\n");
    sb.append("Upgrade: websocket\r\nConnection: Upgrade\r\n");
    sb.append("Sec-WebSocket-Key: ").append(KEY).append("\r\nSec-WebSocket-Version: 13\r\n");
    for (String h : extraHeaders) {
      sb.append(h).append("\r\n");
    }
    return new RawHandshake(port, sb.append("\r\n").toString());
  }

  static RawHandshake send(int port, String rawRequest) throws IOException {
    return new RawHandshake(port, rawRequest);
  }

  List<String> headers(String name) {
    List<String> out = new ArrayList<>();
    String prefix = name.toLowerCase(Locale.ROOT) + ":";
    for (String line : headLines) {
      if (line.toLowerCase(Locale.ROOT).startsWith(prefix)) {
        out.add(line.substring(prefix.length()).trim());
      }
    }
    return out;
  }

  /** Reads one unmasked, unfragmented server text frame of up to 125 bytes. */
  String readSmallTextFrame() throws IOException {
    int b0 = in.read();
    int len = in.read() & 0x7f;
    if (b0 != 0x81 || len > 125) {
      throw new IOException("not a small text frame: " + b0 + "/" + len);
    }
    return new String(in.readNBytes(len), StandardCharsets.UTF_8);
  }

  private String readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != '\n') {
      if (c < 0) {
        throw new IOException("connection closed in the response head");
      }
      if (c != '\r') {
        line.write(c);
      }
    }
    return line.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}

package dev.affinity.jetty;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * One client connection speaking HTTP/1.1 by hand, for the plain-HTTP tests: keep-alive requests in
 * sequence, responses read by their {@code Content-Length} or chunked framing, and a chunked body
 * read piece by piece (a slow SSE reader).
 */
final class HttpWire implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;

  private HttpWire(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new BufferedInputStream(socket.getInputStream(), 1024);
  }

  /** Connects to 127.0.0.1:{@code port} with a 30 s read timeout. */
  static HttpWire open(int port) {
    return open(port, 0);
  }

  /** As {@link #open(int)}, with a receive buffer of {@code receiveBuffer} bytes (0: default). */
  static HttpWire open(int port, int receiveBuffer) {
    try {
      Socket s = new Socket();
      if (receiveBuffer > 0) {
        s.setReceiveBufferSize(receiveBuffer);
      }
      s.setSoTimeout(30_000);
      s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
      return new HttpWire(s);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code GET path} with {@code Host: proxy} and the given extra header lines. */
  static String get(String path, String... headerLines) {
    StringBuilder sb = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: proxy\r\n");
    for (String h : headerLines) {
      sb.append(h).append("\r\n");
    }
    return sb.append("\r\n").toString();
  }

  HttpWire send(String text) {
    try {
      socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sends {@code request} and reads the whole response. */
  Reply exchange(String request) {
    return send(request).read();
  }

  /** Reads one whole response (head and body). */
  Reply read() {
    Reply r = readHead();
    r.body = readBody(r);
    return r;
  }

  /** Reads a response head. */
  Reply readHead() {
    try {
      String statusLine = line();
      List<String[]> fields = new ArrayList<>();
      for (String l = line(); !l.isEmpty(); l = line()) {
        int colon = l.indexOf(':');
        fields.add(new String[] {l.substring(0, colon).trim(), l.substring(colon + 1).trim()});
      }
      return new Reply(statusLine, fields);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads the body of {@code r} (by its framing) to the end. */
  String readBody(Reply r) {
    try {
      String length = r.header("Content-Length");
      if (length != null) {
        byte[] b = new byte[Integer.parseInt(length)];
        readFully(b);
        return new String(b, StandardCharsets.UTF_8);
      }
      if ("chunked".equalsIgnoreCase(r.header("Transfer-Encoding"))) {
        return readChunks();
      }
      return "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads the rest of a chunked body. */
  String readChunks() {
    try {
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      for (byte[] c = nextChunk(); c != null; c = nextChunk()) {
        all.write(c);
      }
      return all.toString(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The next chunk of a chunked body, or null after the last one (trailers skipped). */
  byte @Nullable [] nextChunk() throws IOException {
    String size = line();
    int semi = size.indexOf(';');
    int n = Integer.parseInt(semi < 0 ? size.trim() : size.substring(0, semi).trim(), 16);
    if (n == 0) {
      for (String l = line(); !l.isEmpty(); l = line()) {
        // trailers
      }
      return null;
    }
    byte[] b = new byte[n];
    readFully(b);
    line(); // CRLF after the chunk
    return b;
  }

  /** Whether the peer closed the connection (end of stream or reset) before sending more. */
  boolean closedByPeer() {
    try {
      return in.read() < 0;
    } catch (IOException e) {
      return true;
    }
  }

  private void readFully(byte[] b) throws IOException {
    int off = 0;
    while (off < b.length) {
      int n = in.read(b, off, b.length - off);
      if (n < 0) {
        throw new EOFException("closed after " + off + " of " + b.length + " bytes");
      }
      off += n;
    }
  }

  private String line() throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) {
        throw new EOFException("closed after '" + sb + "'");
      }
      if (c != '\r') {
        sb.append((char) c);
      }
    }
    return sb.toString();
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // closing a test socket
    }
  }

  /** A response: status line, fields in order, body once read. */
  static final class Reply {
    final String statusLine;
    final List<String[]> fields;
    String body = "";

    Reply(String statusLine, List<String[]> fields) {
      this.statusLine = statusLine;
      this.fields = fields;
    }

    int status() {
      return Integer.parseInt(statusLine.split(" ", -1)[1]);
    }

    @Nullable String header(String name) {
      List<String> all = headers(name);
      return all.isEmpty() ? null : all.get(0);
    }

    List<String> headers(String name) {
      List<String> out = new ArrayList<>();
      for (String[] f : fields) {
        if (f[0].toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT))) {
          out.add(f[1]);
        }
      }
      return out;
    }

    @Override
    public String toString() {
      return statusLine + " " + body;
    }
  }
}

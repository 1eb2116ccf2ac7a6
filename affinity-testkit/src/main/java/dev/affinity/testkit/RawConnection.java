package dev.affinity.testkit;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * A raw TCP connection for edge cases no WebSocket client will produce: malformed or oversized
 * handshakes, reading exactly what came back, clients that stop reading.
 *
 * <pre>{@code
 * try (RawConnection c = RawConnection.open(port)) {
 *   c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
 *   RawConnection.Response r = c.readResponseHead();
 *   assertThat(r.status()).isEqualTo(426);
 * }
 * }</pre>
 */
public final class RawConnection implements AutoCloseable {
  /** The most response-head bytes {@link #readResponseHead()} accepts. */
  public static final int MAX_HEAD = 64 * 1024;

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;

  private RawConnection(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new DataInputStream(socket.getInputStream());
    this.out = socket.getOutputStream();
  }

  /** Connects to 127.0.0.1:{@code port}; reads time out after 30 seconds. */
  public static RawConnection open(int port) {
    return open(port, 0);
  }

  /**
   * Connects with a receive buffer of {@code receiveBuffer} bytes (0 for the system default), for
   * tests that want little buffered in the kernel.
   */
  public static RawConnection open(int port, int receiveBuffer) {
    try {
      Socket s = new Socket();
      if (receiveBuffer > 0) {
        s.setReceiveBufferSize(receiveBuffer);
      }
      s.setSoTimeout(30_000);
      s.setTcpNoDelay(true);
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 30_000);
      return new RawConnection(s);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot connect to 127.0.0.1:" + port, e);
    }
  }

  /** A valid WebSocket upgrade request head for {@code pathAndQuery}, plus extra header lines. */
  public static String upgradeRequest(String pathAndQuery, String... extraHeaderLines) {
    StringBuilder sb = new StringBuilder();
    sb.append("GET ").append(pathAndQuery).append(" HTTP/1.1\r\n");
    sb.append("Host: 127.0.0.1\r\n");
    sb.append("Upgrade: websocket\r\n");
    sb.append("Connection: Upgrade\r\n");
    sb.append("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
    sb.append("Sec-WebSocket-Version: 13\r\n");
    for (String line : extraHeaderLines) {
      sb.append(line).append("\r\n");
    }
    return sb.append("\r\n").toString();
  }

  /** Sets how long reads wait. */
  public RawConnection readTimeout(Duration timeout) {
    try {
      socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  /** Writes {@code text} as ISO-8859-1 bytes. */
  public RawConnection send(String text) {
    return send(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  /** Writes {@code bytes}. */
  public RawConnection send(byte[] bytes) {
    try {
      out.write(bytes);
      out.flush();
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException("write failed", e);
    }
  }

  /** Half-closes: no more bytes from us. */
  public void shutdownOutput() {
    try {
      socket.shutdownOutput();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads a response head up to the blank line.
   *
   * @throws UncheckedIOException if the connection ends first or the head exceeds {@link #MAX_HEAD}
   */
  public Response readResponseHead() {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    try {
      int state = 0;
      while (state < 4) {
        int b = in.read();
        if (b < 0) {
          throw new EOFException("connection closed after " + head.size() + " bytes of head");
        }
        head.write(b);
        if (head.size() > MAX_HEAD) {
          throw new IOException("response head longer than " + MAX_HEAD);
        }
        state =
            (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3))
                ? state + 1
                : (b == '\r' ? 1 : 0);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Response.parse(head.toString(StandardCharsets.ISO_8859_1));
  }

  /** Reads exactly {@code n} bytes. */
  public byte[] readExactly(int n) {
    byte[] b = new byte[n];
    try {
      in.readFully(b);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return b;
  }

  /** Reads everything until the peer closes; at most {@code max} bytes. */
  public byte[] readToEnd(int max) {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try {
      int n;
      while ((n = in.read(buf)) >= 0) {
        all.write(buf, 0, n);
        if (all.size() > max) {
          throw new IOException("more than " + max + " bytes before the end");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return all.toByteArray();
  }

  /**
   * Reads the body that follows {@code head} (a response to a request other than {@code HEAD}): by
   * {@code Content-Length}, chunked (decoded; trailers dropped), or until the peer closes. A 1xx,
   * 204 or 304 head has no body.
   *
   * @throws UncheckedIOException if the connection ends early or the body exceeds {@code max}
   */
  public byte[] readBody(Response head, int max) {
    int status = head.status();
    if (status / 100 == 1 || status == 204 || status == 304) {
      return new byte[0];
    }
    String te = head.header("Transfer-Encoding");
    String length = head.header("Content-Length");
    try {
      if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
          String sizeLine = readLine();
          int semi = sizeLine.indexOf(';');
          int size =
              Integer.parseInt((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).strip(), 16);
          if (size == 0) {
            while (!readLine().isEmpty()) {
              // trailer field: dropped
            }
            return body.toByteArray();
          }
          if (body.size() + (long) size > max) {
            throw new IOException("more than " + max + " body bytes");
          }
          byte[] chunk = new byte[size];
          in.readFully(chunk);
          body.write(chunk);
          if (!readLine().isEmpty()) {
            throw new IOException("no CRLF after a chunk");
          }
        }
      }
      if (length != null) {
        int n = Integer.parseInt(length.strip());
        if (n > max) {
          throw new IOException("Content-Length " + n + " is more than " + max);
        }
        byte[] body = new byte[n];
        in.readFully(body);
        return body;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return readToEnd(max);
  }

  /**
   * Reads one CRLF-terminated line (without the CRLF; a bare LF also ends it).
   *
   * @throws UncheckedIOException if the connection ends first
   */
  public String readLine() {
    try {
      return readLine(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads a CRLF-terminated line (without it; a bare LF ends it too) of at most {@link #MAX_HEAD}
   * characters from {@code in}: the one line reader of the raw test clients and backends.
   *
   * @throws EOFException if the stream ends inside the line
   * @throws IOException if the line is longer than {@link #MAX_HEAD}, or reading fails
   */
  static String readLine(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("connection closed inside a line");
      }
      if (b == '\n') {
        int len = sb.length();
        return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
      }
      if (sb.length() > MAX_HEAD) {
        throw new IOException("line longer than " + MAX_HEAD);
      }
      sb.append((char) b);
    }
  }

  /**
   * Whether the peer closes the connection within the read timeout: reads (and drops) bytes until
   * the end of stream. A reset also counts as closed.
   */
  public boolean awaitClosed() {
    byte[] buf = new byte[8192];
    try {
      while (in.read(buf) >= 0) {
        // drop
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // connection reset
    }
  }

  /** Sends one masked frame (as a client must) with FIN set. */
  public RawConnection sendFrame(int opcode, byte[] payload) {
    return send(maskedFrame(opcode, payload));
  }

  /** The bytes of one masked frame with FIN set, to send together with other bytes. */
  public static byte[] maskedFrame(int opcode, byte[] payload) {
    ByteArrayOutputStream f = new ByteArrayOutputStream(payload.length + 14);
    f.write(0x80 | opcode);
    int len = payload.length;
    if (len < 126) {
      f.write(0x80 | len);
    } else if (len < 65536) {
      f.write(0x80 | 126);
      f.write(len >>> 8);
      f.write(len);
    } else {
      f.write(0x80 | 127);
      for (int shift = 56; shift >= 0; shift -= 8) {
        f.write((int) ((long) len >>> shift));
      }
    }
    byte[] mask = new byte[4];
    ThreadLocalRandom.current().nextBytes(mask);
    f.write(mask, 0, 4);
    for (int i = 0; i < len; i++) {
      f.write(payload[i] ^ mask[i & 3]);
    }
    return f.toByteArray();
  }

  /** Sends a masked text frame. */
  public RawConnection sendText(String text) {
    return sendFrame(0x1, text.getBytes(StandardCharsets.UTF_8));
  }

  /** Reads one unmasked frame (as a server sends). */
  public Frame readFrame() {
    try {
      int b0 = in.readUnsignedByte();
      int b1 = in.readUnsignedByte();
      long len = b1 & 0x7f;
      if (len == 126) {
        len = in.readUnsignedShort();
      } else if (len == 127) {
        len = in.readLong();
      }
      if ((b1 & 0x80) != 0) {
        throw new IOException("server frames must not be masked");
      }
      if (len > 64L * 1024 * 1024) {
        throw new IOException("frame of " + len + " bytes");
      }
      byte[] payload = new byte[(int) len];
      in.readFully(payload);
      return new Frame((b0 & 0x80) != 0, b0 & 0x0f, payload);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  /** A server frame read by {@link #readFrame()}. */
  public static final class Frame {
    private final boolean fin;
    private final int opcode;
    private final byte[] payload;

    Frame(boolean fin, int opcode, byte[] payload) {
      this.fin = fin;
      this.opcode = opcode;
      this.payload = payload;
    }

    /** Whether FIN is set. */
    public boolean fin() {
      return fin;
    }

    /** The opcode: 1 text, 2 binary, 8 close, 9 ping, 10 pong, 0 continuation. */
    public int opcode() {
      return opcode;
    }

    /** The payload. */
    public byte[] payload() {
      return payload.clone();
    }

    /** The payload as UTF-8. */
    public String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
      return "Frame{opcode=" + opcode + ", fin=" + fin + ", " + payload.length + " bytes}";
    }
  }

  /** A parsed response head. */
  public static final class Response {
    private final String statusLine;
    private final int status;
    private final List<String[]> headers;

    private Response(String statusLine, int status, List<String[]> headers) {
      this.statusLine = statusLine;
      this.status = status;
      this.headers = headers;
    }

    static Response parse(String head) {
      String[] lines = head.split("\r\n", -1); // empty lines have no colon: skipped below
      String statusLine = lines[0];
      String[] parts = statusLine.split(" ", 3);
      int status =
          parts.length >= 2 && parts[0].startsWith("HTTP/") ? Integer.parseInt(parts[1]) : -1;
      List<String[]> headers = new ArrayList<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon > 0) {
          headers.add(
              new String[] {
                lines[i].substring(0, colon).trim(), lines[i].substring(colon + 1).trim()
              });
        }
      }
      return new Response(statusLine, status, headers);
    }

    /** The status code, or -1 if the status line is not HTTP. */
    public int status() {
      return status;
    }

    /** The status line as received. */
    public String statusLine() {
      return statusLine;
    }

    /** The first value of header {@code name} (case-insensitive), or null. */
    public @Nullable String header(String name) {
      List<String> all = headers(name);
      return all.isEmpty() ? null : all.get(0);
    }

    /** Every value of header {@code name} in order. */
    public List<String> headers(String name) {
      List<String> out = new ArrayList<>();
      String lower = name.toLowerCase(Locale.ROOT);
      for (String[] h : headers) {
        if (h[0].toLowerCase(Locale.ROOT).equals(lower)) {
          out.add(h[1]);
        }
      }
      return out;
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder(statusLine);
      for (String[] h : headers) {
        sb.append("; ").append(h[0]).append(": ").append(h[1]);
      }
      return sb.toString();
    }
  }
}

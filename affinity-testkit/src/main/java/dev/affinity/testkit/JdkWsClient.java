package dev.affinity.testkit;

import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.HttpCookie;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/** {@link WsClient} over {@code java.net.http.WebSocket}. */
final class JdkWsClient implements WsClient {
  private final CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
  private final HttpClient http;
  private final boolean secure;

  JdkWsClient() {
    this.http =
        HttpClient.newBuilder()
            .cookieHandler(cookies)
            .connectTimeout(Duration.ofSeconds(30))
            .build();
    this.secure = false;
  }

  JdkWsClient(SSLContext tls) {
    this.http =
        HttpClient.newBuilder()
            .cookieHandler(cookies)
            .sslContext(tls)
            .connectTimeout(Duration.ofSeconds(30))
            .build();
    this.secure = true;
  }

  @Override
  public WsSession connect(Handshake handshake) {
    WebSocket.Builder b = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30));
    handshake.headers().forEach((name, values) -> values.forEach(v -> b.header(name, v)));
    List<String> sub = handshake.subprotocols();
    if (!sub.isEmpty()) {
      b.subprotocols(sub.get(0), sub.subList(1, sub.size()).toArray(new String[0]));
    }
    if (!handshake.extensions().isEmpty()) {
      throw new UnsupportedOperationException("the JDK client negotiates no extensions");
    }
    Session session = new Session();
    try {
      session.ws = b.buildAsync(uri(handshake), session).get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      int status = -1;
      if (cause instanceof WebSocketHandshakeException) {
        status = ((WebSocketHandshakeException) cause).getResponse().statusCode();
      }
      throw new HandshakeFailedException("jdk handshake to " + handshake.uri(), status, cause);
    } catch (TimeoutException e) {
      throw new HandshakeFailedException("jdk handshake to " + handshake.uri(), -1, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HandshakeFailedException("interrupted", -1, e);
    }
    return session;
  }

  private URI uri(Handshake handshake) {
    URI ws = handshake.uri();
    return secure ? URI.create("wss" + ws.toString().substring("ws".length())) : ws;
  }

  @Override
  public @Nullable String cookie(String name) {
    for (HttpCookie c : cookies.getCookieStore().getCookies()) {
      if (c.getName().equals(name)) {
        return c.getValue();
      }
    }
    return null;
  }

  @Override
  public String name() {
    return "jdk";
  }

  @Override
  public void close() {
    // HttpClient.close() exists only from Java 21; its threads are daemons and idle out.
  }

  private static final class Session implements WsSession, WebSocket.Listener {
    private final Inbox inbox = new Inbox();
    private volatile @Nullable WebSocket ws;

    @Override
    public void onOpen(WebSocket webSocket) {
      webSocket.request(1);
    }

    @Override
    public @Nullable CompletionStage<?> onText(
        WebSocket webSocket, CharSequence data, boolean last) {
      inbox.textPart(data, last);
      webSocket.request(1);
      return null;
    }

    @Override
    public @Nullable CompletionStage<?> onBinary(
        WebSocket webSocket, ByteBuffer data, boolean last) {
      inbox.binaryPart(data, last);
      webSocket.request(1);
      return null;
    }

    @Override
    public @Nullable CompletionStage<?> onClose(
        WebSocket webSocket, int statusCode, String reason) {
      inbox.closed(statusCode, "closed by peer: " + statusCode + " " + reason);
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      inbox.closed("error: " + error);
    }

    private WebSocket ws() {
      WebSocket w = ws;
      if (w == null) {
        throw new IllegalStateException("not connected");
      }
      return w;
    }

    @Override
    public void sendText(String s) {
      Inbox.awaitSent(ws().sendText(s, true));
    }

    @Override
    public void sendBinary(byte[] data) {
      Inbox.awaitSent(ws().sendBinary(ByteBuffer.wrap(data), true));
    }

    @Override
    public WsMessage next(Duration timeout) {
      return inbox.next(timeout);
    }

    @Override
    public boolean awaitClosed(Duration timeout) {
      return inbox.awaitClosed(timeout);
    }

    @Override
    public String toString() {
      return "session " + inbox.closeReason();
    }

    @Override
    public int closeStatus() {
      WebSocket w = ws;
      if (w != null && w.isInputClosed()) {
        // isOpen() turns false when the close frame is read, a moment before the client calls
        // onClose on its executor: wait for that call, so a closed session reports its status.
        inbox.awaitClosed(Duration.ofSeconds(10));
      }
      return inbox.closeStatus();
    }

    @Override
    public boolean isOpen() {
      WebSocket w = ws;
      return w != null && !inbox.isClosed() && !w.isInputClosed();
    }

    @Override
    public @Nullable String subprotocol() {
      String p = ws().getSubprotocol();
      return p == null || p.isEmpty() ? null : p;
    }

    @Override
    public List<String> extensions() {
      throw new UnsupportedOperationException("the JDK client negotiates no extensions");
    }

    @Override
    public void close() {
      WebSocket w = ws;
      if (w != null && !w.isOutputClosed()) {
        w.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
      }
      if (w != null) {
        w.abort();
      }
      inbox.closed("closed locally");
    }
  }
}

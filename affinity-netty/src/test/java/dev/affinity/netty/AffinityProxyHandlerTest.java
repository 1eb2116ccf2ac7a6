package dev.affinity.netty;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.Membership;
import dev.affinity.client.ClientAddressResolver;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.Selection;
import dev.affinity.testkit.RawConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Pipeline details of {@link AffinityProxyHandler} on an {@link EmbeddedChannel}: validation and
 * error answers, non-WebSocket policies, the decision attribute and event, decide-only mode and the
 * PROXY protocol. Nothing here connects anywhere; the tunnel is covered by {@link NettyAdapterTest}
 * and {@link NettyTunnelTest} on real sockets.
 */
@ExtendWith(LeakCheck.class)
class AffinityProxyHandlerTest {
  private static final InetSocketAddress PEER = new InetSocketAddress("192.0.2.10", 40000);

  private final BackendGroup group =
      BackendGroup.of(Backend.of("ws-1", "127.0.0.1", 1), Backend.of("ws-2", "127.0.0.1", 2));

  /** Records what passes the handler: messages and user events. */
  private static final class Recorder extends ChannelInboundHandlerAdapter {
    final List<Object> messages = new ArrayList<>();
    final List<Object> events = new ArrayList<>();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      messages.add(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      events.add(evt);
    }

    void release() {
      messages.forEach(ReferenceCountUtil::release);
    }
  }

  private static EmbeddedChannel channel(ChannelHandler... handlers) {
    return new EmbeddedChannel(handlers) {
      @Override
      protected SocketAddress remoteAddress0() {
        return PEER;
      }
    };
  }

  private static EmbeddedChannel server(AffinityProxyHandler handler, ChannelHandler... more) {
    EmbeddedChannel ch = channel(new HttpServerCodec(4096, 1024, 8192), handler);
    ch.pipeline().addLast(more);
    return ch;
  }

  /** Parses what the channel wrote back with a real HTTP client decoder. */
  private static FullHttpResponse answer(EmbeddedChannel ch) {
    EmbeddedChannel client =
        new EmbeddedChannel(new HttpClientCodec(), new HttpObjectAggregator(1 << 16));
    client.writeOutbound(
        new io.netty.handler.codec.http.DefaultFullHttpRequest(
            io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
            io.netty.handler.codec.http.HttpMethod.GET,
            "/"));
    ReferenceCountUtil.release(client.readOutbound());
    ByteBuf out;
    while ((out = ch.readOutbound()) != null) {
      client.writeInbound(out);
    }
    FullHttpResponse res = client.readInbound();
    assertThat(res).as("an HTTP answer").isNotNull();
    client.finishAndReleaseAll();
    return res;
  }

  private static ByteBuf bytes(String s) {
    return Unpooled.copiedBuffer(s, US_ASCII);
  }

  private Router router(AffinityStrategy... strategies) {
    return Router.builder(group).strategies(strategies).build();
  }

  private void assertAnswer(EmbeddedChannel ch, int status, String bodyContains) {
    FullHttpResponse res = answer(ch);
    try {
      assertThat(res.status().code()).isEqualTo(status);
      assertThat(res.headers().get("Connection")).isEqualToIgnoringCase("close");
      assertThat(res.content().toString(UTF_8)).contains(bodyContains);
      assertThat(ch.isOpen()).as("closed after the answer").isFalse();
    } finally {
      res.release();
    }
  }

  @Test
  void plainRequest_byDefault_gets426WithUpgradeHeaders() {
    EmbeddedChannel ch = server(new AffinityProxyHandler(router()));
    ch.writeInbound(bytes("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"));
    FullHttpResponse res = answer(ch);
    assertThat(res.status().code()).isEqualTo(426);
    assertThat(res.headers().get("Upgrade")).isEqualTo("websocket");
    assertThat(res.headers().get("Sec-WebSocket-Version")).isEqualTo("13");
    res.release();
    assertThat(ch.isOpen()).isFalse();
    ch.finishAndReleaseAll();
  }

  @Test
  void plainRequest_underNotFound_gets404() {
    AffinityProxyConfig config =
        AffinityProxyConfig.builder().nonWebSocket(NonWebSocketPolicy.NOT_FOUND).build();
    EmbeddedChannel ch = server(new AffinityProxyHandler(router(), config));
    ch.writeInbound(bytes("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"));
    assertAnswer(ch, 404, "not found");
    ch.finishAndReleaseAll();
  }

  @Test
  void plainRequests_underPass_reachTheNextHandler_oneAfterAnother() {
    AffinityProxyConfig config =
        AffinityProxyConfig.builder().nonWebSocket(NonWebSocketPolicy.PASS).build();
    Recorder next = new Recorder();
    EmbeddedChannel ch = server(new AffinityProxyHandler(router(), config), next);
    ch.writeInbound(
        bytes(
            "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"));
    assertThat(next.messages).hasSize(4); // head, content, head, empty last content
    assertThat(((HttpRequest) next.messages.get(0)).uri()).isEqualTo("/a");
    assertThat(next.messages.get(1)).isInstanceOf(LastHttpContent.class);
    assertThat(((HttpRequest) next.messages.get(2)).uri()).isEqualTo("/b");
    assertThat(ch.isOpen()).isTrue();
    assertThat(ch.attr(AffinityProxyHandler.DECISION).get()).isNull();
    next.release();
    ch.finishAndReleaseAll();
  }

  @Test
  void rejectedUpgrade_gets401_andTheDecisionIsExposed() {
    AffinityStrategy reject =
        new AffinityStrategy() {
          @Override
          public Selection select(RoutingRequest request, Membership membership) {
            return Selection.reject("token expired");
          }

          @Override
          public String name() {
            return "reject";
          }
        };
    Recorder next = new Recorder();
    EmbeddedChannel ch = server(new AffinityProxyHandler(router(reject)), next);
    ch.writeInbound(bytes(RawConnection.upgradeRequest("/chat")));
    RoutingDecision d = ch.attr(AffinityProxyHandler.DECISION).get();
    assertThat(d.outcome()).isEqualTo(dev.affinity.Outcome.REJECTED);
    assertThat(next.events)
        .singleElement()
        .isInstanceOfSatisfying(
            RoutingDecisionEvent.class, e -> assertThat(e.decision()).isSameAs(d));
    FullHttpResponse res = answer(ch);
    assertThat(res.status().code()).isEqualTo(401);
    assertThat(res.content().toString(UTF_8)).as("no reason leaked").doesNotContain("token");
    res.release();
    ch.finishAndReleaseAll();
  }

  @Test
  void noBackendUp_gets503WithAShortReason() {
    group.markDown("ws-1");
    group.markDown("ws-2");
    EmbeddedChannel ch = server(new AffinityProxyHandler(router()));
    ch.writeInbound(bytes(RawConnection.upgradeRequest("/chat")));
    assertAnswer(ch, 503, "no backend");
    ch.finishAndReleaseAll();
  }

  @Test
  void badHandshakes_getTheirStatus() {
    String ok = RawConnection.upgradeRequest("/");
    String[][] cases = {
      {ok.replace("dGhlIHNhbXBsZSBub25jZQ==", "short"), "400", "Sec-WebSocket-Key"},
      {ok.replace("Version: 13", "Version: 8"), "426", "Version must be 13"},
      {ok.replace("GET ", "POST "), "400", "GET"},
      {ok.replace("HTTP/1.1", "HTTP/1.0"), "400", "HTTP/1.1"},
      {ok.replace("Connection: Upgrade", "Connection: keep-alive"), "400", "Connection"},
      {ok.replace("Host: 127.0.0.1\r\n", ""), "400", "Host"},
      {RawConnection.upgradeRequest("/", "X-Big: " + "b".repeat(2000)), "431", "too large"},
      {RawConnection.upgradeRequest("/" + "p".repeat(5000)), "414", "too long"},
      {"\u0001\u0002 nonsense\r\n\r\n", "400", "malformed"},
    };
    for (String[] c : cases) {
      EmbeddedChannel ch = server(new AffinityProxyHandler(router()));
      ch.writeInbound(bytes(c[0]));
      assertAnswer(ch, Integer.parseInt(c[1]), c[2]);
      ch.finishAndReleaseAll();
    }
  }

  @Test
  void upgrade_stopsReadingFromTheClient_andAnswers502WhenNoCandidateCanBeConnected() {
    // An EmbeddedChannel's loop cannot host sockets: every connect fails, as to dead backends.
    List<Backend> failed = new ArrayList<>();
    Router router =
        Router.builder(group)
            .listener(
                new dev.affinity.metrics.RoutingListener() {
                  @Override
                  public void connectFailed(Backend backend, Throwable cause) {
                    failed.add(backend);
                  }
                })
            .build();
    EmbeddedChannel ch = server(new AffinityProxyHandler(router));
    ch.writeInbound(bytes(RawConnection.upgradeRequest("/chat")));
    assertThat(ch.config().isAutoRead()).isFalse();
    assertThat(ch.attr(AffinityProxyHandler.TUNNEL).get()).isNotNull();
    ch.runPendingTasks();
    assertAnswer(ch, 502, "no backend reachable");
    assertThat(failed).extracting(Backend::id).containsExactlyInAnyOrder("ws-1", "ws-2");
    ch.finishAndReleaseAll();
  }

  @Test
  void decideOnly_passesTheUpgradeOn_afterExposingTheDecision_andRemovesItself() {
    AffinityProxyConfig config = AffinityProxyConfig.builder().decideOnly(true).build();
    Recorder next = new Recorder();
    EmbeddedChannel ch =
        server(
            new AffinityProxyHandler(router(AffinityStrategy.sourceIp()), config),
            new HttpObjectAggregator(8192),
            next);
    ch.writeInbound(bytes(RawConnection.upgradeRequest("/chat?room=1")));
    assertThat(ch.pipeline().get(AffinityProxyHandler.class)).isNull();
    assertThat(next.events).singleElement().isInstanceOf(RoutingDecisionEvent.class);
    assertThat(next.messages).singleElement().isInstanceOf(HttpRequest.class);
    RoutingDecision d = ch.attr(AffinityProxyHandler.DECISION).get();
    assertThat(d.hasBackend()).isTrue();
    assertThat(d.request().remoteAddress()).isEqualTo(PEER);
    assertThat(d.request().path()).isEqualTo("/chat");
    assertThat(d.request().queryParameter("room")).isEqualTo("1");
    assertThat(ch.config().isAutoRead()).isTrue();
    next.release();
    ch.finishAndReleaseAll();
  }

  @Test
  void proxyProtocolSource_reachesTheRouter() {
    AffinityProxyConfig config = AffinityProxyConfig.builder().decideOnly(true).build();
    ClientAddressResolver resolver =
        ClientAddressResolver.builder().trustedProxies("192.0.2.10/32").proxyProtocol(true).build();
    Recorder next = new Recorder();
    EmbeddedChannel ch =
        channel(
            new HAProxyMessageDecoder(),
            new HttpServerCodec(),
            new AffinityProxyHandler(router(AffinityStrategy.sourceIp(resolver)), config),
            next);
    ch.writeInbound(
        bytes("PROXY TCP4 203.0.113.9 192.0.2.1 5555 80\r\n" + RawConnection.upgradeRequest("/")));
    RoutingDecision d = ch.attr(AffinityProxyHandler.DECISION).get();
    assertThat(d.request().proxyProtocolSourceAddress())
        .isEqualTo(new InetSocketAddress("203.0.113.9", 5555));
    assertThat(d.explanation()).contains("203.0.113.9");
    next.release();
    ch.finishAndReleaseAll();
  }

  @Test
  void ioErrorBeforeAnyRequest_closesQuietly_whenNothingFollows() {
    EmbeddedChannel ch = server(new AffinityProxyHandler(router()));
    ch.pipeline().fireExceptionCaught(new IOException("connection reset by peer"));
    ch.checkException(); // nothing reached the tail
    assertThat(ch.isOpen()).isFalse();
    ch.finishAndReleaseAll();
  }

  @Test
  void routingRequestView_readsCookiesStrictly_andTheQueryLazily() {
    io.netty.handler.codec.http.DefaultHttpRequest req =
        new io.netty.handler.codec.http.DefaultHttpRequest(
            io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
            io.netty.handler.codec.http.HttpMethod.GET,
            "/a%20b/c?x=1&x=2&bad=%zz");
    req.headers().add("Cookie", "A=1; B=two").add("Cookie", "A=shadowed; C=3");
    NettyRoutingRequest r = new NettyRoutingRequest(req, PEER, null, false);
    assertThat(r.path()).isEqualTo("/a%20b/c");
    assertThat(r.cookie("A")).isEqualTo("1");
    assertThat(r.cookie("C")).isEqualTo("3");
    assertThat(r.cookie("D")).isNull();
    assertThat(r.queryParameter("x")).isNull(); // %zz makes the whole query unreadable
    assertThat(r.headers("cookie")).hasSize(2);
    assertThat(r.toString()).doesNotContain("two");
    NettyRoutingRequest ok =
        new NettyRoutingRequest(
            new io.netty.handler.codec.http.DefaultHttpRequest(
                io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
                io.netty.handler.codec.http.HttpMethod.GET,
                "/?x=1&x=2&y=%41"),
            PEER,
            null,
            false);
    assertThat(ok.queryParameter("x")).isEqualTo("1");
    assertThat(ok.queryParameter("y")).isEqualTo("A");
  }
}

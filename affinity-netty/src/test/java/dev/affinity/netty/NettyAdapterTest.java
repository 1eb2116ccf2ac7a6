package dev.affinity.netty;

import dev.affinity.Router;
import dev.affinity.testkit.AdapterScenarios;
import dev.affinity.testkit.ProxyHandle;
import dev.affinity.testkit.ProxySettings;
import dev.affinity.testkit.TunnelView;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every shared adapter scenario against {@link AffinityProxyServer}, with PARANOID leak detection
 * and a catcher at the end of each client pipeline recording exceptions that escape the handler.
 */
@ExtendWith(LeakCheck.class)
class NettyAdapterTest extends AdapterScenarios {
  @Override
  protected ProxyHandle startProxy(Router router, ProxySettings settings) throws Exception {
    List<Throwable> escaped = new CopyOnWriteArrayList<>();
    AffinityProxyServer server =
        AffinityProxyServer.builder(router)
            .host("127.0.0.1")
            .port(0)
            .ioThreads(2)
            .config(
                AffinityProxyConfig.builder()
                    .connectTimeout(settings.connectTimeout())
                    .handshakeTimeout(settings.handshakeTimeout())
                    .idleTimeout(settings.idleTimeout())
                    .trustedProxies(settings.trustedProxies().toArray(new String[0]))
                    .requestHeadTimeout(settings.requestHeadTimeout())
                    .build())
            .proxyProtocol(settings.proxyProtocol())
            .pipeline(p -> p.addLast("escape-catcher", new Catcher(escaped)))
            .build()
            .start();
    return handle(server, escaped);
  }

  /**
   * Decide-only in front of the user's own Netty WebSocket endpoint: an aggregator, Netty's {@link
   * WebSocketServerProtocolHandler} and {@link AnnouncingEcho} after the affinity handler.
   */
  @Override
  protected ProxyHandle startDecideOnly(Router router, Runnable endpointCalled) throws Exception {
    List<Throwable> escaped = new CopyOnWriteArrayList<>();
    AffinityProxyServer server =
        AffinityProxyServer.builder(router)
            .host("127.0.0.1")
            .port(0)
            .ioThreads(2)
            .config(AffinityProxyConfig.builder().decideOnly(true).build())
            .pipeline(
                p ->
                    p.addLast(new HttpObjectAggregator(8192))
                        .addLast(new AnnouncingEcho.Called(endpointCalled))
                        .addLast(
                            new WebSocketServerProtocolHandler(
                                WebSocketServerProtocolConfig.newBuilder()
                                    .websocketPath("/")
                                    .checkStartsWith(true)
                                    .build()))
                        .addLast(new AnnouncingEcho())
                        .addLast("escape-catcher", new Catcher(escaped)))
            .build()
            .start();
    return handle(server, escaped);
  }

  private static ProxyHandle handle(AffinityProxyServer server, List<Throwable> escaped) {
    return ProxyHandle.of(
        server::port,
        escaped,
        () -> server.tunnels().stream().map(NettyAdapterTest::view).toList(),
        server::close);
  }

  private static TunnelView view(Tunnel t) {
    return TunnelView.of(t, () -> t.backend().id(), t::isOpen, t::close, t::close);
  }

  @ChannelHandler.Sharable
  private static final class Catcher extends ChannelInboundHandlerAdapter {
    private final List<Throwable> escaped;

    Catcher(List<Throwable> escaped) {
      this.escaped = escaped;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      escaped.add(cause);
      ctx.close();
    }
  }
}

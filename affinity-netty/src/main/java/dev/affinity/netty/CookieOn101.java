package dev.affinity.netty;

import dev.affinity.SetCookie;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * In decide-only mode: adds the decision's affinity cookie to the 101 the next handler writes, then
 * removes itself. Any other first response is passed on unchanged (and this handler removed).
 */
final class CookieOn101 extends ChannelOutboundHandlerAdapter {
  private final SetCookie cookie;

  CookieOn101(SetCookie cookie) {
    this.cookie = cookie;
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
      throws Exception {
    if (msg instanceof HttpResponse) {
      HttpResponse res = (HttpResponse) msg;
      if (res.status().code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
        res.headers().add(HttpHeaderNames.SET_COOKIE, cookie.toHeaderValue());
      }
      ctx.pipeline().remove(this);
    }
    ctx.write(msg, promise);
  }
}

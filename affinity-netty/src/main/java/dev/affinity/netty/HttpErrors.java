package dev.affinity.netty;

import dev.affinity.internal.http.ErrorAnswer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * The adapters' one plain-text error answer ({@link ErrorAnswer}), always with {@code Connection:
 * close} and a close after: the same bytes as the Jetty adapter's.
 */
final class HttpErrors {
  private HttpErrors() {}

  /** RFC 9110's name for 414 (Netty still says "Request-URI Too Long"), as Jetty writes it. */
  private static final HttpResponseStatus URI_TOO_LONG =
      new HttpResponseStatus(414, "URI Too Long");

  static FullHttpResponse response(
      ChannelHandlerContext ctx, HttpResponseStatus given, String reason) {
    HttpResponseStatus status = given.code() == 414 ? URI_TOO_LONG : given;
    ByteBuf body = Unpooled.wrappedBuffer(ErrorAnswer.body(status.code(), reason));
    FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
    res.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, ErrorAnswer.CONTENT_TYPE)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    if (status.equals(HttpResponseStatus.UPGRADE_REQUIRED)) {
      res.headers()
          .set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET)
          .set(HttpHeaderNames.SEC_WEBSOCKET_VERSION, "13");
    }
    return res;
  }

  /** Writes the answer through {@code ctx} (so through the HTTP encoder before it) and closes. */
  static ChannelFuture send(ChannelHandlerContext ctx, HttpResponseStatus status, String reason) {
    return ctx.writeAndFlush(response(ctx, status, reason))
        .addListener(ChannelFutureListener.CLOSE);
  }
}

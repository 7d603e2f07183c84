package io.dynoplane.router;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.HttpConversionUtil;

import java.util.List;

/**
 * On an HTTP/2 stream, between the frame-to-HTTP/1.1 conversion and routing: splits a whole request
 * into head and body, removes the
 * {@code x-http2-*} headers the conversion adds (or a client sent), and keeps one Host: a request whose
 * Host header and {@code :authority} disagree (RFC 9113 §8.3.1) is reset (Netty's conversion finds
 * it) or, should one get past that, refused with 400 through RequestRouter's failed-decode path: the
 * router must route by one unambiguous name.
 */
@ChannelHandler.Sharable
final class Http2Requests extends ChannelInboundHandlerAdapter {
    static final Http2Requests INSTANCE = new Http2Requests();
    private static final System.Logger LOG = System.getLogger(Router.class.getName());

    private Http2Requests() {
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof FullHttpRequest full) {
            // A stream that ended with its HEADERS frame: RequestRouter takes the head and the body
            // as separate messages, as the HTTP/1.1 decoder delivers them. The body buffer moves to the
            // last content, which is released (or passed on) downstream.
            HttpRequest head = new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(),
                    full.headers());
            head.setDecoderResult(full.decoderResult());
            normalize(head);
            ctx.fireChannelRead(head);
            ctx.fireChannelRead(new DefaultLastHttpContent(full.content(), full.trailingHeaders()));
            return;
        }
        if (msg instanceof HttpRequest request) {
            normalize(request);
        }
        ctx.fireChannelRead(msg);
    }

    /**
     * Netty's conversion refuses some requests itself (a Host header that differs from
     * {@code :authority}, malformed pseudo-headers): the stream is reset with PROTOCOL_ERROR before
     * anything is routed or logged.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException && cause.getCause() instanceof Http2Exception refused) {
            LOG.log(System.Logger.Level.DEBUG, "resetting {0}: {1}", ctx.channel(), refused.getMessage());
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    private static void normalize(HttpRequest request) {
        HttpHeaders h = request.headers();
        for (HttpConversionUtil.ExtensionHeaderNames name : HttpConversionUtil.ExtensionHeaderNames.values()) {
            h.remove(name.text());
        }
        List<String> hosts = h.getAll(HttpHeaderNames.HOST);
        if (hosts.size() > 1 && hosts.stream().map(RouteTable::normalizeHost).distinct().count() > 1) {
            request.setDecoderResult(DecoderResult.failure(
                    new IllegalArgumentException("Host differs from :authority: " + hosts)));
        } else if (hosts.size() > 1) {
            h.set(HttpHeaderNames.HOST, hosts.getFirst()); // the same name twice: keep one
        }
    }
}

package io.dynoplane.router;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.Mapping;

import java.util.concurrent.TimeUnit;

/**
 * Builds client pipelines (see {@link Router} for the handlers and their jobs): plain HTTP/1.x, and TLS,
 * which picks a certificate by SNI, then HTTP/1.1 or HTTP/2 by ALPN.
 */
final class ClientPipelines {
    /** The client must finish its TLS handshake (ClientHello included) within this time. */
    static final long TLS_HANDSHAKE_TIMEOUT_MILLIS = 10_000;
    /** Streams one HTTP/2 client may have open at once. */
    static final int MAX_CONCURRENT_STREAMS = 128;
    /** HTTP/2 header list limit (uncompressed), as generous as the HTTP/1.1 decoder's limits allow. */
    static final long MAX_HEADER_LIST_SIZE = 64 * 1024;

    private final RouterRuntime runtime;
    private final Runnable onHeadTimeout;
    private final Mapping<String, SslContext> certificates; // null without a TLS listener

    ClientPipelines(RouterRuntime runtime, Runnable onHeadTimeout, Mapping<String, SslContext> certificates) {
        this.runtime = runtime;
        this.onHeadTimeout = onHeadTimeout;
        this.certificates = certificates;
    }

    /**
     * A connection to the plain HTTP listener: the HTTP/1.1 pipeline, with {@link Http2PriorKnowledge}
     * in front of the decoder to catch h2c clients (it leaves after the first bytes).
     */
    void plain(Channel ch) {
        http1(ch.pipeline(), ClientSide.PLAIN_HTTP1);
        ch.pipeline().addAfter("head", "h2c", new Http2PriorKnowledge(this));
    }

    /**
     * From {@link Http2PriorKnowledge}: the client opened with the HTTP/2 preface. The HTTP/1.1 handlers
     * go (the head timeout is stopped first: the preface counts as a head), the HTTP/2 ones come.
     */
    void http2PriorKnowledge(ChannelHandlerContext detector) {
        ChannelPipeline p = detector.pipeline();
        HeadTimeout head = p.get(HeadTimeout.class);
        if (head != null) {
            head.headReceived();
        }
        for (String name : HTTP1_HANDLERS) {
            if (p.context(name) != null) {
                p.remove(name);
            }
        }
        http2(p, new ClientSide(false, true));
    }

    /**
     * A connection to the TLS listener: SNI picks the certificate, the handshake runs, then
     * {@link TlsNegotiator} installs the HTTP pipeline ALPN chose. The handshake reads on its own
     * (auto-read), the HTTP/1.1 pipeline turns that off again.
     */
    void tls(Channel ch) {
        ch.config().setAutoRead(true);
        ch.pipeline()
                .addLast("sni", new SniHandler(certificates, TLS_HANDSHAKE_TIMEOUT_MILLIS))
                .addLast("alpn", new TlsNegotiator(this));
    }

    /**
     * From {@link TlsNegotiator}: the handshake is done and the client speaks HTTP/1.1. Adds the
     * HTTP/1.1 handlers behind the negotiator and tells them the channel is active, which they missed
     * (it starts the head timeout and the first request read).
     */
    void http1AfterHandshake(ChannelHandlerContext negotiator) {
        negotiator.channel().config().setAutoRead(false); // RequestRouter asks for each request
        http1(negotiator.pipeline(), new ClientSide(true, false));
        negotiator.fireChannelActive();
    }

    /**
     * From {@link TlsNegotiator}: the client speaks HTTP/2. The connection reads on its own (HTTP/2
     * flow control per stream does the back-pressure: a stream's window opens only as its child
     * channel reads); each stream gets a child channel that converts its frames to HTTP/1.1 objects and
     * routes them like an HTTP/1.1 connection with one request.
     */
    void http2AfterHandshake(ChannelHandlerContext negotiator) {
        http2(negotiator.pipeline(), new ClientSide(true, true));
    }

    private void http2(ChannelPipeline p, ClientSide side) {
        p.channel().config().setAutoRead(true);
        RouterLimits limits = runtime.limits();
        p.addLast("h2idle", new IdleStateHandler(0, 0, limits.clientIdleTimeout().toNanos(), TimeUnit.NANOSECONDS))
                .addLast("h2", Http2FrameCodecBuilder.forServer()
                        .initialSettings(Http2Settings.defaultSettings()
                                .maxConcurrentStreams(MAX_CONCURRENT_STREAMS)
                                .maxHeaderListSize(MAX_HEADER_LIST_SIZE))
                        .build())
                .addLast("h2streams", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel stream) {
                        http2Stream(stream, side);
                    }
                }))
                .addLast("h2conn", new Http2Connection());
    }

    private void http2Stream(Http2StreamChannel stream, ClientSide side) {
        stream.config().setAutoRead(false); // RequestRouter asks for each piece
        stream.pipeline()
                .addLast("h2http", new Http2StreamFrameToHttpObjectCodec(true))
                .addLast("h2req", Http2Requests.INSTANCE)
                .addLast("arrival", ArrivalStamper.INSTANCE)
                .addLast("expect", new ExpectContinue())
                .addLast("flow", new FlowControlHandler())
                .addLast("route", new RequestRouter(runtime, side));
    }

    private static final String[] HTTP1_HANDLERS = {
            "idle", "head", "decode", "encode", "arrival", "expect", "flow", "route"};

    private void http1(ChannelPipeline p, ClientSide side) {
        RouterLimits limits = runtime.limits();
        p.addLast("idle", new IdleTimeout(limits.clientIdleTimeout().toNanos()))
                .addLast("head", new HeadTimeout(limits.headTimeout().toNanos(), onHeadTimeout))
                .addLast("decode", new StrictRequestDecoder())
                .addLast("encode", new ClientResponseEncoder())
                .addLast("arrival", ArrivalStamper.INSTANCE)
                .addLast("expect", new ExpectContinue())
                .addLast("flow", new FlowControlHandler())
                .addLast("route", new RequestRouter(runtime, side));
    }
}

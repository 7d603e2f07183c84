package io.dynoplane.router;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpResponseEncoder;
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

    private final RouterRuntime runtime;
    private final Runnable onHeadTimeout;
    private final Mapping<String, SslContext> certificates; // null without a TLS listener

    ClientPipelines(RouterRuntime runtime, Runnable onHeadTimeout, Mapping<String, SslContext> certificates) {
        this.runtime = runtime;
        this.onHeadTimeout = onHeadTimeout;
        this.certificates = certificates;
    }

    /** A connection to the plain HTTP listener. */
    void plain(Channel ch) {
        http1(ch.pipeline(), ClientSide.PLAIN_HTTP1);
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

    private void http1(ChannelPipeline p, ClientSide side) {
        RouterLimits limits = runtime.limits();
        p.addLast("idle", new IdleStateHandler(0, 0, limits.clientIdleTimeout().toNanos(), TimeUnit.NANOSECONDS))
                .addLast("head", new HeadTimeout(limits.headTimeout().toNanos(), onHeadTimeout))
                .addLast("decode", new StrictRequestDecoder())
                .addLast("encode", new HttpResponseEncoder())
                .addLast("arrival", ArrivalStamper.INSTANCE)
                .addLast("expect", new ExpectContinue())
                .addLast("flow", new FlowControlHandler())
                .addLast("route", new RequestRouter(runtime, side));
    }
}

package io.dynoplane.router;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;

/**
 * Once the TLS handshake is done, installs the pipeline for the protocol ALPN chose (HTTP/1.1 when the
 * client offered none), then leaves the pipeline. Whatever was decrypted before that is held by the
 * base class and replayed into the new handlers.
 */
final class TlsNegotiator extends ApplicationProtocolNegotiationHandler {
    private static final System.Logger LOG = System.getLogger(Router.class.getName());

    private final ClientPipelines pipelines;

    TlsNegotiator(ClientPipelines pipelines) {
        super(ApplicationProtocolNames.HTTP_1_1);
        this.pipelines = pipelines;
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
        if (ApplicationProtocolNames.HTTP_1_1.equals(protocol)) {
            pipelines.http1AfterHandshake(ctx);
        } else if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
            pipelines.http2AfterHandshake(ctx);
        } else {
            // Cannot happen: the SslContext only offers what is handled here.
            LOG.log(System.Logger.Level.WARNING, "closing {0}: ALPN chose unsupported {1}", ctx.channel(), protocol);
            ctx.close();
        }
    }

    @Override
    protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
        // Scanners, expired trust stores, plain HTTP on the TLS port: routine for a public router.
        LOG.log(System.Logger.Level.DEBUG, "TLS handshake failed on {0}: {1}", ctx.channel(), cause);
        ctx.close();
    }
}

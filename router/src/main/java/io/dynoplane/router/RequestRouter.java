package io.dynoplane.router;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Serves one client connection, one request at a time: routes by Host, answers router errors itself
 * and hands the rest to a {@link ProxyExchange}. Auto-read is off and the FlowControlHandler in front
 * delivers one request per {@code read()}, so pipelined requests wait their turn in order and a slow
 * dyno back-pressures its client.
 */
final class RequestRouter extends ChannelInboundHandlerAdapter {
    /** User event from {@link Router#close()}: finish the current request, then close. */
    enum Drain { INSTANCE }

    private static final System.Logger LOG = System.getLogger(Router.class.getName());
    /** How long a refused client may go on sending before its connection is closed anyway. */
    private static final long LINGER_MILLIS = 2_000;

    private final RouterRuntime runtime;
    private ChannelHandlerContext ctx;
    private BackendPool pool;

    // The request being served, null between requests.
    private RequestRecord current;
    private boolean currentKeepAlive;
    private boolean currentHttp10;
    private boolean currentHead;
    private ProxyExchange exchange;   // non-null while waiting on a dyno
    private boolean closeAfterResponse;
    private boolean rejected;         // a request was refused as malformed: answer it, then close

    RequestRouter(RouterRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.pool = runtime.pool(ctx.channel().eventLoop());
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.read();
        ctx.fireChannelActive();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // A read cycle ended without a whole request (FlowControlHandler completes every read() this
        // way): ask again, unless we are busy and the next read waits for our response.
        if (current == null) {
            ctx.read();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (rejected) {
            // Whatever follows a refused request is not trusted as a request: discard until closed.
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!(msg instanceof FullHttpRequest request)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (current != null) {
            // Cannot happen while only we call read(); refuse rather than interleave responses.
            request.release();
            ctx.close();
            return;
        }
        serve(request);
    }

    /** Owns {@code request} until an exchange takes it; releases it on every other path. */
    private void serve(FullHttpRequest request) {
        ProxyExchange forward;
        try {
            forward = route(request);
        } catch (RuntimeException | Error e) {
            request.release();
            throw e;
        }
        if (forward == null) {
            request.release(); // answered by the router itself
        } else {
            exchange = forward;
            forward.start();   // the exchange owns the request from here on
        }
    }

    /** Answers the request itself (returning null) or returns the exchange that will forward it. */
    private ProxyExchange route(FullHttpRequest request) {
        ArrivalStamper.Arrival arrival = ArrivalStamper.take(request.headers());
        RequestRecord rec = new RequestRecord(request.method().name(), request.uri(),
                protocol(request.protocolVersion()), arrival.nanos());
        current = rec;
        currentKeepAlive = HttpUtil.isKeepAlive(request);
        currentHttp10 = request.protocolVersion().equals(HttpVersion.HTTP_1_0);
        currentHead = HttpMethod.HEAD.equals(request.method());

        String hostHeader = request.headers().get(HttpHeaderNames.HOST);
        String host = RouteTable.normalizeHost(hostHeader);
        rec.host = host == null ? "" : host;
        rec.requestId = RequestIds.resolve(request.headers().get(ForwardHeaders.X_REQUEST_ID));
        rec.fwd = ForwardHeaders.forwardedFor(request.headers(), clientIp());

        if (!request.decoderResult().isSuccess()) {
            // The byte stream can't be trusted any more: answer, then close without reading on.
            Throwable cause = request.decoderResult().cause();
            LOG.log(System.Logger.Level.DEBUG, "refusing request on {0}: {1}", ctx.channel(), cause);
            rejected = true;
            currentKeepAlive = false;
            respondError(rec, cause instanceof ExpectContinue.ExpectationFailedException
                    ? RouterError.EXPECTATION_FAILED : RouterError.BAD_REQUEST);
            return null;
        }
        Optional<AppRoute> route = runtime.routes().lookup(hostHeader);
        if (route.isEmpty()) {
            respondError(rec, RouterError.NO_SUCH_APP);
            return null;
        }
        rec.app = route.get().app();
        List<Backend> dynos = route.get().webDynos();
        if (dynos.isEmpty()) {
            respondError(rec, RouterError.H14);
            return null;
        }
        Backend backend = dynos.get(ThreadLocalRandom.current().nextInt(dynos.size()));
        rec.dyno = backend.dyno();
        ForwardHeaders.toDyno(request, new ForwardHeaders.Forwarding(
                rec.fwd, localPort(), rec.requestId, runtime.routerName(), arrival.epochMillis()));
        return new ProxyExchange(this, rec, request, backend.address(), pool, runtime.limits());
    }

    /** From the exchange: the dyno's response, now owned by us. */
    void dynoResponded(RequestRecord rec, FullHttpResponse response) {
        exchange = null;
        ForwardHeaders.fromDyno(response, currentHead);
        respond(rec, response);
    }

    /** From the exchange: no usable response from the dyno. */
    void dynoFailed(RequestRecord rec, RouterError error) {
        exchange = null;
        respondError(rec, error);
    }

    private void respondError(RequestRecord rec, RouterError error) {
        rec.error = error;
        respond(rec, error.newResponse(ctx.alloc()));
    }

    private void respond(RequestRecord rec, FullHttpResponse response) {
        boolean keepAlive = currentKeepAlive && !closeAfterResponse && !runtime.draining();
        response.headers().set(ForwardHeaders.X_REQUEST_ID, rec.requestId);
        ForwardHeaders.appendVia(response.headers(), runtime.routerName());
        if (!keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (currentHttp10) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE); // 1.0 needs telling
        }
        rec.status = response.status().code();
        if (currentHead || !mayHaveBody(response.status())) {
            // Headers only, whatever the dyno sent: Content-Length (if any) stays as the dyno set it.
            FullHttpResponse headersOnly = response.replace(Unpooled.EMPTY_BUFFER);
            response.release();
            response = headersOnly;
        }
        rec.bytes = response.content().readableBytes();
        ctx.writeAndFlush(response).addListener((ChannelFutureListener) f -> responseWritten(rec, f, keepAlive));
    }

    private void responseWritten(RequestRecord rec, ChannelFuture write, boolean keepAlive) {
        rec.finishedNanos = System.nanoTime();
        runtime.completed(rec);
        current = null;
        if (!write.isSuccess()) {
            ctx.close();
        } else if (rejected) {
            lingeringClose();
        } else if (!keepAlive || closeAfterResponse) {
            ctx.close();
        } else {
            ctx.read(); // next request (possibly already queued by the FlowControlHandler)
        }
    }

    /**
     * Closes after an error response without resetting the connection: a client still sending the
     * rest of a refused request would otherwise get a TCP reset that can destroy the response before
     * it reads it. Stop writing, read and discard until the client closes, or give up after a while.
     */
    private void lingeringClose() {
        if (!(ctx.channel() instanceof DuplexChannel duplex)) {
            ctx.close();
            return;
        }
        duplex.shutdownOutput().addListener(f -> {
            if (f.isSuccess()) {
                ctx.read(); // discarded by channelRead; the client's EOF closes the channel
            } else {
                ctx.close();
            }
        });
        ctx.executor().schedule(() -> {
            ctx.close();
        }, LINGER_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** RFC 9110 §6.4.1: 1xx, 204 and 304 responses never carry content. */
    private static boolean mayHaveBody(HttpResponseStatus status) {
        return status.codeClass() != HttpStatusClass.INFORMATIONAL
                && status.code() != 204 && status.code() != 304;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ProxyExchange pending = exchange;
        if (pending != null) {
            exchange = null;
            pending.clientGone();
            RequestRecord rec = current;
            current = null;
            rec.error = RouterError.H27;
            rec.status = RouterError.H27.status().code();
            rec.finishedNanos = System.nanoTime();
            runtime.completed(rec);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == Drain.INSTANCE || evt instanceof IdleStateEvent) {
            // Idle keep-alive connections and draining ones close now; busy ones after their response.
            // (Idle events during a request are ignored: the exchange has its own timeout.)
            if (current == null) {
                ctx.close();
            } else if (evt == Drain.INSTANCE) {
                closeAfterResponse = true;
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Resets and half-finished requests are routine for a public router; anything else is a bug.
        LOG.log(cause instanceof IOException ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
                "closing client connection " + ctx.channel() + ": " + cause, cause);
        ctx.close();
    }

    private String clientIp() {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress remote && remote.getAddress() != null
                ? remote.getAddress().getHostAddress()
                : "";
    }

    private int localPort() {
        return ctx.channel().localAddress() instanceof InetSocketAddress local ? local.getPort() : 0;
    }

    private static String protocol(HttpVersion version) {
        return "http" + version.majorVersion() + "." + version.minorVersion();
    }
}

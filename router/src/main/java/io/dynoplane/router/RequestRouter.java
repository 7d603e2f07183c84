package io.dynoplane.router;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Serves one client connection, one request at a time, streaming: routes by Host on the request head,
 * answers router errors itself and hands the rest to a {@link ProxyExchange}, then feeds it the body a
 * piece at a time and writes the dyno's response out as it comes. Auto-read is off and the
 * FlowControlHandler in front delivers one message per {@code read()}; this handler asks for the next
 * one only when it can use it (a new request when idle, the next piece of body while the dyno
 * connection is writable), so pipelined requests wait their turn in order and a slow dyno
 * back-pressures its client. At most one read is outstanding at any time.
 *
 * <p>A request is over when both its body has been read (forwarded or, once answered, dropped) and its
 * response has been written; only then is the next one read.
 */
final class RequestRouter extends ChannelInboundHandlerAdapter {
    /** User event from {@link Router#close()}: finish the current request, then close. */
    enum Drain { INSTANCE }

    private static final System.Logger LOG = System.getLogger(Router.class.getName());
    /** How long a refused client may go on sending before its connection is closed anyway. */
    private static final long LINGER_MILLIS = 2_000;

    private final RouterRuntime runtime;
    private final ClientSide side;
    private ChannelHandlerContext ctx;
    private BackendPool pool;
    private HeadTimeout headTimeout;  // null if the pipeline has none
    private String clientIp;          // the peer's address as text, once known
    private LazyTimer exchangeTimer;  // the exchanges' timeouts (H12, the idle window), one timer per connection

    // The request being served, null between requests.
    private RequestRecord current;
    private boolean currentKeepAlive;
    private boolean currentHttp10;
    private boolean currentHead;
    private boolean requestEnded;      // its last piece of body has been read
    private boolean responseEnded;     // its response has been written out
    private boolean bodylessResponse;  // HEAD, 1xx, 204, 304: whatever body the dyno sends is dropped
    private boolean responseKeepAlive; // decided with the response head
    private ProxyExchange exchange;    // non-null while the dyno side runs
    private boolean closeAfterResponse;
    private boolean rejected;          // refused or closing: answer if need be, drop all input, close
    private boolean readPending;       // a read() is outstanding: never ask twice
    private List<Backend> currentDynos; // the dynos the current request was routed among
    // A routed request waiting for a dyno to boot (or about to be dispatched).
    private boolean queued;
    private HttpRequest queuedHead;
    private String queuedHost;
    private long queuedStartMillis;
    private long bootDeadlineNanos;
    private ScheduledFuture<?> bootTimer;  // H20 when it fires
    private Runnable bootWaker;            // registered with the runtime: a new route table came

    RequestRouter(RouterRuntime runtime) {
        this(runtime, ClientSide.PLAIN_HTTP1);
    }

    RequestRouter(RouterRuntime runtime, ClientSide side) {
        this.runtime = runtime;
        this.side = side;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.pool = runtime.pool(ctx.channel().eventLoop());
        this.headTimeout = ctx.pipeline().get(HeadTimeout.class);
        this.exchangeTimer = new LazyTimer(ctx.executor(), () -> {
            ProxyExchange forward = exchange;
            if (forward != null) {
                forward.onTimer();
            }
        });
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        exchangeTimer.cancel(); // e.g. replaced by a Tunnel: no exchange is left to time
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        requestRead();
        ctx.fireChannelActive();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // A read cycle ended (FlowControlHandler completes every read() that emptied its queue this
        // way): ask again if we can use more.
        readPending = false;
        wantMore();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        readPending = false;
        if (rejected) {
            // Whatever follows a refused request is not trusted as a request: discard until closed.
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest request) {
            if (current != null) {
                // Cannot happen while only we call read(); refuse rather than interleave responses.
                ReferenceCountUtil.release(msg);
                ctx.close();
                return;
            }
            if (headTimeout != null) {
                headTimeout.headReceived();
            }
            serve(request);
        }
        if (msg instanceof HttpContent content) {
            body(content); // also the (empty) content of a refused FullHttpRequest
        } else if (!(msg instanceof HttpRequest)) {
            ReferenceCountUtil.release(msg);
        }
        wantMore();
    }

    /** Asks for the next message if this request (or the next one) can use it now. */
    private void wantMore() {
        if (current == null || (!requestEnded && (exchange == null ? !queued : exchange.readyForBody()))) {
            requestRead();
        }
    }

    private void requestRead() {
        if (!readPending && ctx.channel().isActive()) {
            readPending = true;
            ctx.read(); // may deliver a queued message right away
        }
    }

    /** From the exchange: the dyno can take more body now. */
    void resumeBody() {
        wantMore();
    }

    private void serve(HttpRequest request) {
        ProxyExchange forward = route(request);
        if (forward != null) {
            exchange = forward;
            forward.start();
        }
    }

    /** One piece of the current request's body, owned here until passed on or released. */
    private void body(HttpContent content) {
        if (current == null || requestEnded) {
            content.release(); // cannot happen: the decoder ends each request before the next
            return;
        }
        if (!content.decoderResult().isSuccess()) {
            content.release();
            brokenBody();
            return;
        }
        boolean last = content instanceof LastHttpContent;
        if (last) {
            requestEnded = true;
        }
        ProxyExchange forward = exchange;
        if (forward != null) {
            forward.sendBody(content);
        } else {
            content.release(); // answered already (router error, or the dyno did not wait for it)
        }
        if (last && responseEnded) {
            nextRequest();
        }
    }

    /**
     * The body turned out malformed (a bad chunk) after the head went on: the dyno must never see the
     * request end, so its connection is dropped mid-body; the client gets 400 if nothing of a response
     * has gone out yet, and the connection closes either way.
     */
    private void brokenBody() {
        RequestRecord rec = current;
        requestEnded = true;
        currentKeepAlive = false;
        rejected = true;
        ProxyExchange forward = exchange;
        exchange = null;
        boolean responseStarted = forward != null ? forward.abort() : responseEnded;
        if (responseEnded) {
            current = null;
            lingeringClose();
        } else if (forward == null) {
            // The router's own answer is on its way; responseWritten closes after it.
        } else if (responseStarted) {
            abandon(rec, RouterError.BAD_REQUEST);
        } else {
            respondError(rec, RouterError.BAD_REQUEST);
        }
    }

    /** Answers the request itself (returning null) or returns the exchange that will forward it. */
    private ProxyExchange route(HttpRequest request) {
        ArrivalStamper.Arrival arrival = ArrivalStamper.take(request);
        RequestRecord rec = new RequestRecord(request.method().name(), request.uri(),
                side.protocol(request.protocolVersion()), arrival.nanos());
        rec.tls = side.tls();
        current = rec;
        requestEnded = false;
        responseEnded = false;
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
            currentKeepAlive = false;
            rejected = true;
            respondError(rec, cause instanceof ExpectContinue.ExpectationFailedException
                    ? RouterError.EXPECTATION_FAILED : RouterError.BAD_REQUEST);
            return null;
        }
        runtime.checkFault(hostHeader);
        RouteTable table = runtime.routes();
        Optional<AppRoute> route = table.lookup(hostHeader);
        if (route.isEmpty()) {
            respondError(rec, RouterError.NO_SUCH_APP);
            return null;
        }
        AppRoute app = route.get();
        rec.app = app.app();
        if (app.trusted() != TrustedSources.ANY && !(ctx.channel().remoteAddress() instanceof InetSocketAddress client
                && app.trusted().admits(client.getAddress()))) {
            respondError(rec, RouterError.UNTRUSTED_SOURCE);
            return null;
        }
        if (app.maintenance()) {
            respondError(rec, RouterError.H80);
            return null;
        }
        if (app.webDynos().isEmpty()) {
            respondError(rec, RouterError.H14);
            return null;
        }
        int cap = runtime.limits().inFlightPerDyno() * app.webDynos().size();
        if (!runtime.enter(rec, rec.app, cap)) {
            respondError(rec, RouterError.H11);
            return null;
        }
        queuedHead = request;
        queuedHost = hostHeader;
        queuedStartMillis = arrival.epochMillis();
        bootDeadlineNanos = System.nanoTime() + runtime.limits().bootWait().toNanos();
        return dispatch(rec, app, table);
    }

    /**
     * Sends the routed request {@code queuedHead} to one of the app's up dynos, or answers it (H80, H10,
     * H14), or, while some dyno is still booting and the boot wait has not run out, queues it and looks
     * again whenever a new route table is published; H20 once the wait is over.
     */
    private ProxyExchange dispatch(RequestRecord rec, AppRoute app, RouteTable seen) {
        if (app.maintenance()) {
            queuedHead = null;
            respondError(rec, RouterError.H80);
            return null;
        }
        List<Backend> up = app.upDynos();
        if (up.isEmpty()) {
            if (!app.booting()) {
                queuedHead = null;
                respondError(rec, app.webDynos().isEmpty() ? RouterError.H14 : RouterError.H10);
            } else if (System.nanoTime() - bootDeadlineNanos >= 0) {
                queuedHead = null;
                respondError(rec, RouterError.H20);
            } else {
                queued = true; // no reads until it is dispatched: the body waits in the client's socket
                if (bootTimer == null) {
                    bootTimer = ctx.executor().schedule(() -> bootTimedOut(rec),
                            bootDeadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
                    bootWaker = () -> {
                        try {
                            ctx.executor().execute(() -> recheckBoot(rec));
                        } catch (RejectedExecutionException shuttingDown) {
                            // The router is closing; the drain deals with this connection.
                        }
                    };
                }
                runtime.awaitPublish(bootWaker, seen);
            }
            return null;
        }
        HttpRequest request = queuedHead;
        queuedHead = null;
        currentDynos = up;
        Backend backend = pick(up, Set.of());
        rec.dyno = backend.dyno();
        ForwardHeaders.toDyno(request, new ForwardHeaders.Forwarding(
                rec.fwd, side.scheme(), localPort(), rec.requestId, runtime.routerName(), queuedStartMillis));
        return new ProxyExchange(this, ctx.channel(), rec, request, backend.address(), pool, runtime.limits(),
                exchangeTimer);
    }

    /** A queued request's look at a newly published route table: has a dyno come up? */
    private void recheckBoot(RequestRecord rec) {
        if (!queued || current != rec) {
            return; // dispatched or answered already, or the client left
        }
        queued = false;
        RouteTable table = runtime.routes();
        Optional<AppRoute> route = table.lookup(queuedHost);
        ProxyExchange forward = null;
        if (route.isEmpty()) {
            queuedHead = null;
            respondError(rec, RouterError.NO_SUCH_APP); // the app went away meanwhile
        } else {
            forward = dispatch(rec, route.get(), table);
        }
        if (!queued) {
            stopBootWait();
        }
        if (forward != null) {
            exchange = forward;
            forward.start();
        }
        wantMore();
    }

    /** The boot wait ran out with no dyno up: H20. */
    private void bootTimedOut(RequestRecord rec) {
        bootTimer = null;
        if (!queued || current != rec) {
            return;
        }
        queued = false;
        queuedHead = null;
        stopBootWait();
        respondError(rec, RouterError.H20);
    }

    private void stopBootWait() {
        if (bootTimer != null) {
            bootTimer.cancel(false);
            bootTimer = null;
        }
        if (bootWaker != null) {
            runtime.stopAwaitingPublish(bootWaker);
            bootWaker = null;
        }
    }

    /**
     * A random dyno among {@code dynos} not in {@code tried}, preferring those not quarantined; null
     * if every one has been tried.
     */
    private Backend pick(List<Backend> dynos, Set<InetSocketAddress> tried) {
        if (tried.isEmpty() && !runtime.anyQuarantined() && !dynos.isEmpty()) {
            return dynos.get(ThreadLocalRandom.current().nextInt(dynos.size())); // the usual case, without copies
        }
        List<Backend> healthy = new ArrayList<>(dynos.size());
        List<Backend> untried = new ArrayList<>(dynos.size());
        for (Backend dyno : dynos) {
            if (!tried.contains(dyno.address())) {
                untried.add(dyno);
                if (!runtime.quarantined(dyno.address())) {
                    healthy.add(dyno);
                }
            }
        }
        // With every untried dyno quarantined, try one anyway: it may be back, and it is all there is.
        List<Backend> from = healthy.isEmpty() ? untried : healthy;
        return from.isEmpty() ? null : from.get(ThreadLocalRandom.current().nextInt(from.size()));
    }

    /**
     * From the exchange: connecting to {@code failed} was refused or timed out. Quarantines it and
     * returns another dyno of the app to try (now named in the log), or null if all were tried.
     */
    Backend connectFailed(RequestRecord rec, InetSocketAddress failed, Set<InetSocketAddress> tried) {
        runtime.quarantine(failed);
        Backend next = currentDynos == null ? null : pick(currentDynos, tried);
        if (next != null) {
            rec.dyno = next.dyno();
        }
        return next;
    }

    /** From the exchange: the dyno's response head (not reference-counted). */
    void dynoResponseHead(RequestRecord rec, HttpResponse response) {
        ForwardHeaders.fromDyno(response, currentHead);
        bodylessResponse = currentHead || !mayHaveBody(response.status());
        boolean closeDelimited = false;
        if (!bodylessResponse && !HttpUtil.isContentLengthSet(response)) {
            // The dyno sent chunked or close-delimited: 1.1 clients get chunked, 1.0 clients can only
            // be told where the body ends by the connection closing.
            if (currentHttp10) {
                closeDelimited = true;
            } else {
                HttpUtil.setTransferEncodingChunked(response, true);
            }
        }
        prepareHead(rec, response, closeDelimited);
        // No promise: a failed write fires exceptionCaught, which closes. Flushed at the end of the dyno's read batch,
        // or with the response's end.
        ctx.write(response, ctx.voidPromise());
    }

    /**
     * Whether the current request's response can go to the client as the dyno's bytes ({@link PassThroughHead}): an
     * HTTP/1.1 client connection (HTTP/2 streams take response objects; HTTP/1.0 clients need their framing
     * changed). A HEAD's response, which has no body, the dyno's decoder always decodes.
     */
    boolean takesPassThrough() {
        return !side.http2() && !currentHttp10;
    }

    /**
     * From the exchange: the dyno's response head, to go to the client as it came, followed by the router's lines
     * (the same X-Request-Id, Via and Connection as {@link #prepareHead} sets), now owned by us.
     */
    void dynoPassThroughHead(RequestRecord rec, PassThroughHead head) {
        bodylessResponse = false;
        decideKeepAlive(false);
        rec.status = head.status();
        ForwardHeaders.appendRouterLines(head.content(), rec.requestId, runtime.routerName(), !responseKeepAlive);
        ctx.write(head, ctx.voidPromise()); // as dynoResponseHead's
    }

    /** From the exchange: the dyno's read batch ended; flush what it passed on. */
    void flushResponse() {
        ctx.flush();
    }

    /**
     * From the exchange: the dyno answered the upgrade with 101 on {@code dyno}. The 101 goes to the
     * client, the request is logged as done, and both connections leave HTTP for a byte {@link Tunnel}.
     */
    void dynoUpgraded(RequestRecord rec, HttpResponse response, Channel dyno) {
        exchange = null;
        current = null;
        FullHttpResponse switching = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.SWITCHING_PROTOCOLS, Unpooled.EMPTY_BUFFER);
        switching.headers().set(response.headers());
        switching.headers().remove(HttpHeaderNames.CONTENT_LENGTH).remove(HttpHeaderNames.TRANSFER_ENCODING);
        switching.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        switching.headers().set(ForwardHeaders.X_REQUEST_ID, rec.requestId);
        ForwardHeaders.appendVia(switching.headers(), runtime.routerName());
        rec.status = 101;
        rec.finishedNanos = System.nanoTime();
        runtime.completed(rec);
        ctx.writeAndFlush(switching).addListener(ChannelFutureListener.CLOSE_ON_FAILURE); // encoded now, on this loop
        Tunnel.splice(ctx.channel(), dyno);
    }

    /** From the exchange: a piece of response body, now owned by us. Returns whether the client can take more. */
    boolean dynoResponseContent(RequestRecord rec, HttpContent content) {
        if (bodylessResponse) {
            content.release();
            return true;
        }
        rec.bytes += content.content().readableBytes();
        ctx.write(content, ctx.voidPromise()); // as the head's
        return ctx.channel().isWritable();
    }

    /** From the exchange: the last piece of the response, now owned by us; the dyno side is done. */
    void dynoResponseEnded(RequestRecord rec, LastHttpContent last) {
        exchange = null;
        LastHttpContent out = last;
        if (bodylessResponse) {
            last.release();
            out = LastHttpContent.EMPTY_LAST_CONTENT;
        } else {
            rec.bytes += last.content().readableBytes();
        }
        ctx.writeAndFlush(out).addListener((ChannelFutureListener) f -> responseWritten(rec, f));
    }

    /** From the exchange: no usable response from the dyno, and nothing of one sent yet. */
    void dynoFailed(RequestRecord rec, RouterError error) {
        exchange = null;
        if (error.answersClient()) {
            respondError(rec, error);
        } else {
            abandon(rec, error); // the client is not there to read an answer
        }
    }

    /** From the exchange: the response broke off after its head went out; all we can do is close. */
    void dynoInterrupted(RequestRecord rec, RouterError error) {
        exchange = null;
        ctx.flush(); // what the dyno did send goes out before the close
        abandon(rec, error);
    }

    private void abandon(RequestRecord rec, RouterError error) {
        completeWith(rec, error);
        current = null;
        rejected = true;
        ctx.close();
    }

    /** Logs and counts a request that ended in {@code error} with nothing (more) sent to the client. */
    private void completeWith(RequestRecord rec, RouterError error) {
        rec.error = error;
        rec.status = error.status().code();
        rec.finishedNanos = System.nanoTime();
        runtime.completed(rec);
    }

    private void respondError(RequestRecord rec, RouterError error) {
        rec.error = error;
        respond(rec, error.newResponse(ctx.alloc()));
    }

    /** The router's own whole response (errors). */
    private void respond(RequestRecord rec, FullHttpResponse response) {
        prepareHead(rec, response, false);
        if (currentHead || !mayHaveBody(response.status())) {
            // Headers only: Content-Length (if any) stays as set.
            FullHttpResponse headersOnly = response.replace(Unpooled.EMPTY_BUFFER);
            response.release();
            response = headersOnly;
        }
        rec.bytes = response.content().readableBytes();
        ctx.writeAndFlush(response).addListener((ChannelFutureListener) f -> responseWritten(rec, f));
    }

    /** The router's headers on any response head, and whether the connection stays open after it. */
    private void prepareHead(RequestRecord rec, HttpResponse response, boolean mustClose) {
        decideKeepAlive(mustClose);
        response.headers().set(ForwardHeaders.X_REQUEST_ID, rec.requestId);
        ForwardHeaders.appendVia(response.headers(), runtime.routerName());
        if (!responseKeepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (currentHttp10) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE); // 1.0 needs telling
        }
        rec.status = response.status().code();
    }

    private void decideKeepAlive(boolean mustClose) {
        responseKeepAlive = currentKeepAlive && !closeAfterResponse && !runtime.draining() && !mustClose;
    }

    private void responseWritten(RequestRecord rec, ChannelFuture write) {
        if (current != rec) {
            return; // already accounted for (the connection broke off)
        }
        responseEnded = true;
        rec.finishedNanos = System.nanoTime();
        runtime.completed(rec);
        if (!write.isSuccess()) {
            current = null;
            ctx.close();
        } else if (rejected) {
            current = null;
            lingeringClose();
        } else if (!responseKeepAlive || closeAfterResponse) {
            current = null;
            if (requestEnded) {
                ctx.close();
            } else {
                lingeringClose(); // the client may still be sending its body
            }
        } else if (requestEnded) {
            nextRequest();
        } else {
            wantMore(); // answered before the whole body came: drop the rest, then go on
        }
    }

    private void nextRequest() {
        current = null;
        if (headTimeout != null) {
            headTimeout.awaitHead();
        }
        requestRead(); // next request (possibly already queued by the FlowControlHandler)
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
        rejected = true; // from now on everything read is dropped
        duplex.shutdownOutput().addListener(f -> {
            if (f.isSuccess()) {
                requestRead(); // discarded by channelRead; the client's EOF closes the channel
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
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        ProxyExchange forward = exchange;
        if (forward != null) {
            forward.clientWritabilityChanged(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        exchangeTimer.cancel();
        if (queued) {
            // Left while waiting for a dyno to boot.
            queued = false;
            queuedHead = null;
            stopBootWait();
            RequestRecord rec = current;
            current = null;
            completeWith(rec, RouterError.H27);
        }
        ProxyExchange pending = exchange;
        if (pending != null) {
            exchange = null;
            pending.clientGone();
            RequestRecord rec = current;
            current = null;
            completeWith(rec, RouterError.H27);
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
        RequestRecord rec = current;
        if (!(cause instanceof IOException) && rec != null && !responseEnded) {
            platformError(rec);
            return;
        }
        ctx.close();
    }

    /**
     * The router itself failed with a request open: Heroku's H99. The client gets the 503 page if nothing of a
     * response went out yet, else the connection just ends; the dyno's side is dropped; then the connection closes.
     */
    private void platformError(RequestRecord rec) {
        currentKeepAlive = false;
        rejected = true;
        ProxyExchange forward = exchange;
        exchange = null;
        boolean responseStarted = forward != null ? forward.abort() : rec.status != 0;
        if (responseStarted) {
            abandon(rec, RouterError.H99);
        } else {
            respondError(rec, RouterError.H99);
        }
    }

    private String clientIp() {
        String ip = clientIp;
        if (ip == null) {
            ip = ctx.channel().remoteAddress() instanceof InetSocketAddress remote && remote.getAddress() != null
                    ? remote.getAddress().getHostAddress()
                    : "";
            clientIp = ip; // fixed for the connection's life
        }
        return ip;
    }

    private int localPort() {
        return ctx.channel().localAddress() instanceof InetSocketAddress local ? local.getPort() : 0;
    }
}

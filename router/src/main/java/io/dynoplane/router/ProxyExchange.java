package io.dynoplane.router;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.Future;

import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.Set;

/**
 * One request's trip to a dyno and back, streamed both ways. The request head goes out as soon as a
 * connection is attached; then {@link RequestRouter} feeds the body piece by piece, reading the next
 * piece from the client only while the dyno connection is writable ({@link #readyForBody}). The
 * response comes back the same way: head, then pieces, and while the client is not writable the dyno
 * connection stops reading (auto-read off) until it is again. Nothing is aggregated, so memory per
 * exchange is bounded by the channels' write-buffer water marks plus one read's worth of bytes.
 *
 * <p>A dyno that refuses the connection or does not accept it within the connect timeout is
 * quarantined and the request goes to another of the app's dynos; H21 (refused) or H19 (timed out),
 * from the last attempt, only once every dyno has been tried.
 *
 * <p>Timers, as on Heroku: H12 if no response head arrives within the response timeout of the whole
 * request having been sent; then a rolling idle window in which some byte must move, else H15 (dyno
 * quiet) or H28 (client quiet: not sending its body, or not reading the response). Both are deadlines on
 * the client connection's {@link LazyTimer}, so an exchange schedules no task of its own.
 *
 * <p>Runs entirely on the client channel's event loop; {@code done} makes every late callback a no-op.
 * Pieces of body passed in are owned by the exchange and released or written on every path.
 */
final class ProxyExchange implements ChannelFutureListener {
    private final RequestRouter client;
    private final Channel clientChannel;
    private final RequestRecord rec;
    private final HttpRequest head;
    private InetSocketAddress address;      // the dyno being tried
    private Set<InetSocketAddress> triedDynos = Set.of(); // the dynos that failed to connect; a HashSet from the first
    private final BackendPool pool;
    private final RouterLimits limits;
    /** Idempotent and without a body: it can be sent again if a pooled connection turns out dead. */
    private final boolean retryable;
    /** The request asks for a protocol upgrade the dyno may accept with 101 (see ForwardHeaders). */
    private final boolean upgrade;

    private BackendConnection connection;   // attached connection; null while connecting
    private boolean clientEnded;            // the client's last piece of body has come in
    private boolean requestSent;            // ... and has been written to the dyno in full
    private boolean responseStarted;        // the dyno's response head has gone to the client
    private boolean dynoKeepAlive;
    private boolean dynoPaused;             // dyno reads stopped while the client catches up
    private final LazyTimer timer;          // the client connection's: H12, then the idle window
    private long responseDeadlineNanos;     // H12, once the request has been sent and until the head comes
    private long lastProgressNanos;
    private long attemptStartNanos;
    private long requestSentNanos = -1;
    private boolean retried;
    private boolean done;

    ProxyExchange(RequestRouter client, Channel clientChannel, RequestRecord rec, HttpRequest head,
                  InetSocketAddress address, BackendPool pool, RouterLimits limits, LazyTimer timer) {
        this.client = client;
        this.timer = timer;
        this.clientChannel = clientChannel;
        this.rec = rec;
        this.head = head;
        this.address = address;
        this.pool = pool;
        this.limits = limits;
        this.retryable = isIdempotent(head.method()) && !HttpUtil.isTransferEncodingChunked(head)
                && HttpUtil.getContentLength(head, 0L) == 0;
        this.upgrade = ForwardHeaders.tunnelledUpgrade(head) != null;
    }

    void start() {
        progress();
        timer.arm(lastProgressNanos + limits.idleWindow().toNanos());
        attempt(false, lastProgressNanos);
    }

    /** True while the exchange wants the next piece of request body and the dyno can take it. */
    boolean readyForBody() {
        return !done && !clientEnded && connection != null && connection.channel().isWritable();
    }

    /** An idle pooled connection to the dyno or, if there is none or {@code freshConnection} is set, a new one. */
    private void attempt(boolean freshConnection, long nowNanos) {
        attemptStartNanos = nowNanos;
        BackendConnection pooled = freshConnection ? null : pool.pollIdle(address);
        if (pooled != null) {
            onAcquired(pooled, null);
            return;
        }
        Future<BackendConnection> connecting = pool.connect(address);
        connecting.addListener(f -> onAcquired(connecting.getNow(), connecting.cause()));
    }

    /** A connection to the dyno, or null and why there is none. */
    private void onAcquired(BackendConnection c, Throwable connectError) {
        if (done) {
            // The client left while we connected; an unused connection is still good for the pool.
            if (c != null) {
                pool.release(c, true);
            }
            return;
        }
        long now = System.nanoTime();
        rec.connectNanos = now - attemptStartNanos;
        if (c == null) {
            // Nothing was sent, so any request may go to another dyno of the app instead.
            if (triedDynos.isEmpty()) {
                triedDynos = new HashSet<>(2);
            }
            triedDynos.add(address);
            Backend next = client.connectFailed(rec, address, triedDynos);
            if (next != null) {
                address = next.address();
                attempt(false, System.nanoTime());
                return;
            }
            fail(connectError(connectError));
            return;
        }
        connection = c;
        c.attach(this, HttpMethod.HEAD.equals(head.method()), upgrade, client.takesPassThrough());
        requestSentNanos = now;
        lastProgressNanos = now; // progress()
        // The head is not reference-counted, so a retry can write it again.
        // Written now, flushed with the body's first piece or its end when those are already queued
        // (one write for a bodiless request), else right after.
        c.channel().write(head, c.channel().voidPromise()); // a failed write: exceptionCaught closes it
        if (clientEnded) {
            // A retry of a bodiless request whose (empty) end already came in.
            writeLast(c, LastHttpContent.EMPTY_LAST_CONTENT);
        } else {
            client.resumeBody();
            if (!clientEnded) {
                c.channel().flush();
            }
        }
    }

    /** The next piece of the client's body; ownership passes to the exchange. */
    void sendBody(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        if (last) {
            clientEnded = true;
        }
        BackendConnection c = connection;
        if (done || c == null) {
            // Gone, or reconnecting for a retry (only bodiless requests are retried, so this is
            // their empty end, written once the new connection is up).
            content.release();
            return;
        }
        if (content.content().isReadable()) {
            progress();
        }
        if (last) {
            writeLast(c, ForwardHeaders.withoutTrailers((LastHttpContent) content));
        } else {
            c.channel().writeAndFlush(content, c.channel().voidPromise());
        }
    }

    private void writeLast(BackendConnection c, LastHttpContent last) {
        c.channel().writeAndFlush(last).addListener(this);
    }

    /**
     * The request's last piece has been written to a dyno connection, or failed to be: the H12 clock starts, or the
     * connection closes and reports back through {@link #onConnectionLost}. (The exchange is its own listener: a
     * lambda would be one more object per request.)
     */
    @Override
    public void operationComplete(ChannelFuture f) {
        if (!f.isSuccess()) {
            f.channel().close();
        } else if (!done && connection != null && connection.channel() == f.channel()) {
            requestSent = true;
            if (!responseStarted) {
                responseDeadlineNanos = System.nanoTime() + limits.responseTimeout().toNanos();
                timer.arm(responseDeadlineNanos);
            }
        }
    }

    /** From the dyno connection: a read batch ended, so what it passed on to the client goes out now. */
    void dynoReadComplete() {
        if (!done && responseStarted) {
            client.flushResponse();
        }
    }

    /** From the dyno connection: it can take more (or no more) request body. */
    void dynoWritabilityChanged(boolean writable) {
        if (writable && readyForBody()) {
            progress();
            client.resumeBody();
        }
    }

    /** From the client channel: it can take more response body, or it cannot. */
    void clientWritabilityChanged(boolean writable) {
        if (writable && dynoPaused && connection != null) {
            dynoPaused = false;
            progress();
            connection.channel().config().setAutoRead(true); // reads at once
        }
    }

    /** The dyno's final response head; not reference-counted. */
    void onResponseHead(HttpResponse response) {
        if (done) {
            return;
        }
        responseStarted = true;
        dynoKeepAlive = HttpUtil.isKeepAlive(response);
        progress();
        client.dynoResponseHead(rec, response);
    }

    /** The dyno's final response head, to be passed on as it is; ownership passes to the exchange. */
    void onPassThroughHead(PassThroughHead head) {
        if (done) {
            head.release();
            return;
        }
        responseStarted = true;
        dynoKeepAlive = head.keepAlive();
        progress();
        client.dynoPassThroughHead(rec, head);
    }

    /**
     * The dyno accepted the upgrade (101): the exchange ends here and the connection, already detached
     * from the pool's bookkeeping, becomes one end of a {@link Tunnel}.
     */
    void onUpgrade(HttpResponse response) {
        BackendConnection c = connection;
        if (done || c == null) {
            return;
        }
        if (!requestSent) {
            // Switched before the request was even written out: nothing sane can follow.
            fail(RouterError.H18);
            return;
        }
        done = true;
        cancelTimers();
        connection = null;
        c.detach();
        rec.serviceNanos = System.nanoTime() - requestSentNanos;
        client.dynoUpgraded(rec, response, c.channel());
    }

    /** A piece of the dyno's response body; ownership passes to the exchange. */
    void onResponseContent(HttpContent content) {
        if (done || !responseStarted) {
            content.release();
            return;
        }
        progress();
        BackendConnection c = connection;
        if (content instanceof LastHttpContent last) {
            done = true;
            cancelTimers();
            rec.serviceNanos = System.nanoTime() - requestSentNanos;
            connection = null;
            c.detach();
            // Reuse only a connection whose request went out whole and whose dyno wants to keep it.
            // Bytes beyond this response (a body sent where none is allowed) put the connection out of step.
            boolean reusable = dynoKeepAlive && requestSent && !c.hasStrayBytes();
            dynoPaused = false;
            pool.release(c, reusable);
            client.dynoResponseEnded(rec, ForwardHeaders.withoutTrailers(last));
            return;
        }
        boolean clientWritable = client.dynoResponseContent(rec, content);
        if (!clientWritable && !dynoPaused && !done) {
            dynoPaused = true;
            c.channel().config().setAutoRead(false);
        }
    }

    /** The connection closed or failed before a complete response. */
    void onConnectionLost() {
        if (done) {
            return;
        }
        BackendConnection lost = connection;
        connection = null;
        if (!responseStarted && lost != null && lost.reused() && !retried && retryable) {
            // A dyno may close a pooled connection just as we pick it. That is a race, not the dyno
            // failing this request, so an idempotent bodiless request gets one more go.
            retried = true;
            requestSent = false;
            requestSentNanos = -1;
            attempt(true, System.nanoTime());
            return;
        }
        fail(responseStarted ? RouterError.H18 : RouterError.H13);
    }

    /** The dyno sent something unusable; the connection is already being closed. */
    void onBrokenResponse() {
        if (done) {
            return;
        }
        connection = null;
        fail(RouterError.H18);
    }

    /** The client went away first: drop the dyno connection (its response can't be used). */
    void clientGone() {
        if (done) {
            return;
        }
        done = true;
        cancelTimers();
        dropConnection();
        if (requestSentNanos >= 0) {
            rec.serviceNanos = System.nanoTime() - requestSentNanos;
        }
    }

    /**
     * The client's body broke off mid-way: drop the dyno connection without ending the request, so
     * the dyno sees a truncated request, never a complete one. Returns whether a response had started.
     */
    boolean abort() {
        if (!done) {
            done = true;
            cancelTimers();
            dropConnection();
            if (requestSentNanos >= 0) {
                rec.serviceNanos = System.nanoTime() - requestSentNanos;
            }
        }
        return responseStarted;
    }

    private void onResponseTimeout() {
        dropConnection();
        fail(RouterError.H12);
    }

    private void progress() {
        lastProgressNanos = System.nanoTime();
    }

    /**
     * The connection's timer ran out: H12 if the response head is overdue, else the rolling window (some
     * byte must move in one direction or the other). Not due yet (progress moved it), the timer is re-armed.
     */
    void onTimer() {
        if (done) {
            return;
        }
        long now = System.nanoTime();
        if (requestSent && !responseStarted) {
            // Awaiting the head: the H12 timer's job, not the idle window's.
            if (now - responseDeadlineNanos >= 0) {
                onResponseTimeout();
            } else {
                timer.arm(responseDeadlineNanos);
            }
            return;
        }
        long window = limits.idleWindow().toNanos();
        if (now - lastProgressNanos < window) {
            timer.arm(lastProgressNanos + window);
            return;
        }
        RouterError error;
        if (responseStarted) {
            // Stalled mid-response: either the client is not reading or the dyno is not sending.
            error = dynoPaused && !clientChannel.isWritable() ? RouterError.H28 : RouterError.H15;
        } else {
            // Stalled mid-upload: either the dyno is not reading or the client is not sending.
            error = connection != null && !connection.channel().isWritable() ? RouterError.H15 : RouterError.H28;
        }
        dropConnection();
        fail(error);
    }

    private void dropConnection() {
        BackendConnection c = connection;
        connection = null;
        if (c != null) {
            c.detach();
            c.channel().config().setAutoRead(true);
            hangUp(c.channel());
        }
    }

    /**
     * Closes a dyno connection in the middle of an exchange so that the dyno sees it at once. A plain
     * close on io_uring can wait for the connection's outstanding operations (a read the dyno will
     * never complete), leaving the dyno holding a half-sent request; shutting the socket down first
     * sends the FIN straight away.
     */
    private static void hangUp(Channel ch) {
        if (ch instanceof DuplexChannel duplex && ch.isActive()) {
            duplex.shutdown().addListener(f -> ch.close());
        } else {
            ch.close();
        }
    }

    /**
     * H19 for a timeout, H21 for the dyno refusing (or any socket error); anything else (an address the router
     * cannot use, resources exhausted) is the platform's fault, not the dyno's: H99.
     */
    static RouterError connectError(Throwable cause) {
        if (cause instanceof ConnectTimeoutException) return RouterError.H19;
        return cause instanceof java.io.IOException ? RouterError.H21 : RouterError.H99;
    }

    private void fail(RouterError error) {
        done = true;
        cancelTimers();
        dropConnection();
        if (requestSentNanos >= 0) {
            rec.serviceNanos = System.nanoTime() - requestSentNanos;
        }
        if (responseStarted) {
            client.dynoInterrupted(rec, error);
        } else {
            client.dynoFailed(rec, error);
        }
    }

    private void cancelTimers() {
        timer.disarm();
    }

    private static boolean isIdempotent(HttpMethod method) {
        return HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method) || HttpMethod.OPTIONS.equals(method)
                || HttpMethod.PUT.equals(method) || HttpMethod.DELETE.equals(method) || HttpMethod.TRACE.equals(method);
    }
}

package io.dynoplane.router;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * One request's trip to a dyno and back. Owns the aggregated request until the exchange ends and
 * writes a retained duplicate per attempt, so a retry can resend it and every path releases it exactly
 * once. Runs entirely on the client channel's event loop; {@code done} makes every late callback a
 * no-op.
 */
final class ProxyExchange {
    private final RequestRouter client;
    private final RequestRecord rec;
    private final InetSocketAddress address;
    private final BackendPool pool;
    private final RouterLimits limits;

    private FullHttpRequest request;
    private BackendConnection connection;   // attached connection; null while connecting
    private ChannelFuture requestWrite;
    private ScheduledFuture<?> responseTimeout;
    private long attemptStartNanos;
    private long requestSentNanos = -1;
    private boolean retried;
    private boolean done;

    ProxyExchange(RequestRouter client, RequestRecord rec, FullHttpRequest request, InetSocketAddress address,
                  BackendPool pool, RouterLimits limits) {
        this.client = client;
        this.rec = rec;
        this.request = request;
        this.address = address;
        this.pool = pool;
        this.limits = limits;
    }

    void start() {
        attempt(false);
    }

    private void attempt(boolean freshConnection) {
        attemptStartNanos = System.nanoTime();
        Future<BackendConnection> acquired = pool.acquire(address, freshConnection);
        if (acquired.isDone()) {
            onAcquired(acquired);
        } else {
            acquired.addListener(f -> onAcquired(acquired));
        }
    }

    private void onAcquired(Future<BackendConnection> acquired) {
        if (done) {
            // The client left while we connected; an unused connection is still good for the pool.
            if (acquired.isSuccess()) {
                pool.release(acquired.getNow(), true);
            }
            return;
        }
        if (!acquired.isSuccess()) {
            rec.connectNanos = System.nanoTime() - attemptStartNanos;
            fail(acquired.cause() instanceof ConnectTimeoutException ? RouterError.H19 : RouterError.H21);
            return;
        }
        rec.connectNanos = System.nanoTime() - attemptStartNanos;
        BackendConnection c = acquired.getNow();
        connection = c;
        c.attach(this, HttpMethod.HEAD.equals(request.method()));
        requestSentNanos = System.nanoTime();
        responseTimeout = c.channel().eventLoop().schedule(
                this::onResponseTimeout, limits.responseTimeout().toNanos(), TimeUnit.NANOSECONDS);
        requestWrite = c.channel().writeAndFlush(request.retainedDuplicate());
        requestWrite.addListener(f -> {
            // A failed write leaves the connection in an unknown state; closing it reports back
            // through onConnectionLost.
            if (!f.isSuccess()) {
                c.channel().close();
            }
        });
    }

    /** The dyno answered; ownership of {@code response} passes to this exchange. */
    void onResponse(FullHttpResponse response) {
        if (done) {
            response.release();
            return;
        }
        done = true;
        cancelTimeout();
        rec.serviceNanos = System.nanoTime() - requestSentNanos;
        BackendConnection c = connection;
        connection = null;
        c.detach();
        // Reuse only a connection whose request went out whole and whose dyno wants to keep it.
        // Bytes beyond this response (a body sent where none is allowed) put the connection out of step.
        boolean reusable = HttpUtil.isKeepAlive(response) && requestWrite.isDone() && requestWrite.isSuccess()
                && !c.hasStrayBytes();
        pool.release(c, reusable);
        releaseRequest();
        client.dynoResponded(rec, response);
    }

    /** The connection closed or failed before a complete response. */
    void onConnectionLost() {
        if (done) {
            return;
        }
        cancelTimeout();
        BackendConnection lost = connection;
        connection = null;
        if (lost != null && lost.reused() && !retried && isIdempotent(request.method())) {
            // A dyno may close a pooled connection just as we pick it. That is a race, not the dyno
            // failing this request, so an idempotent request gets one more go on a new connection.
            retried = true;
            requestSentNanos = -1;
            attempt(true);
            return;
        }
        fail(RouterError.H13);
    }

    /** The dyno sent something unusable; the connection is already being closed. */
    void onBrokenResponse() {
        if (done) {
            return;
        }
        cancelTimeout();
        connection = null;
        fail(RouterError.H18);
    }

    /** The client went away first: drop the dyno connection (its response can't be used). */
    void clientGone() {
        if (done) {
            return;
        }
        done = true;
        cancelTimeout();
        if (connection != null) {
            connection.detach();
            connection.channel().close();
            connection = null;
        }
        if (requestSentNanos >= 0) {
            rec.serviceNanos = System.nanoTime() - requestSentNanos;
        }
        releaseRequest();
    }

    private void onResponseTimeout() {
        if (done) {
            return;
        }
        BackendConnection c = connection;
        connection = null;
        if (c != null) {
            c.detach();
            c.channel().close();
        }
        fail(RouterError.H12);
    }

    private void fail(RouterError error) {
        done = true;
        if (requestSentNanos >= 0) {
            rec.serviceNanos = System.nanoTime() - requestSentNanos;
        }
        releaseRequest();
        client.dynoFailed(rec, error);
    }

    private void cancelTimeout() {
        if (responseTimeout != null) {
            responseTimeout.cancel(false);
            responseTimeout = null;
        }
    }

    private void releaseRequest() {
        if (request != null) {
            request.release();
            request = null;
        }
    }

    private static boolean isIdempotent(HttpMethod method) {
        return HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method) || HttpMethod.OPTIONS.equals(method)
                || HttpMethod.PUT.equals(method) || HttpMethod.DELETE.equals(method) || HttpMethod.TRACE.equals(method);
    }
}

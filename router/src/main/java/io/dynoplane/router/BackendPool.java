package io.dynoplane.router;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Keep-alive connections to dynos, one pool per event loop. Connections are created on the pool's own
 * loop — the same one as the client channels that use them — so a request never changes threads and
 * the pool needs no locks. Every method must be called on that loop.
 */
final class BackendPool {
    private final EventLoop loop;
    private final RouterLimits limits;
    private final Bootstrap bootstrap;
    // LIFO per address: hot connections stay hot, cold ones age out through the idle timeout.
    private final Map<InetSocketAddress, ArrayDeque<BackendConnection>> idle = new HashMap<>();
    // For the metrics (read from other threads): connections open (idle, in use or tunnelling), and idle.
    private final AtomicInteger openCount = new AtomicInteger();
    private final AtomicInteger idleCount = new AtomicInteger();

    BackendPool(EventLoop loop, Transport transport, RouterLimits limits) {
        this.loop = loop;
        this.limits = limits;
        this.bootstrap = new Bootstrap()
                .group(loop)
                .channel(transport.socketChannelType())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, Math.toIntExact(limits.connectTimeout().toMillis()))
                .option(ChannelOption.TCP_NODELAY, true);
        transport.applySocketOptions(bootstrap::option);
    }

    /**
     * An idle pooled connection to {@code address}, marked reused, or null if there is none (the usual case under load
     * is one, handed over without a future: a future per request is one more object per request).
     */
    BackendConnection pollIdle(InetSocketAddress address) {
        assert loop.inEventLoop();
        ArrayDeque<BackendConnection> queue = idle.get(address);
        while (queue != null && !queue.isEmpty()) {
            BackendConnection candidate = queue.pollFirst();
            idleCount.decrementAndGet();
            if (candidate.channel().isActive()) {
                candidate.markReused();
                return candidate;
            }
        }
        return null;
    }

    /** A new connection to {@code address}. Fails with the connect error (a ConnectTimeoutException on timeout). */
    Future<BackendConnection> connect(InetSocketAddress address) {
        assert loop.inEventLoop();
        BackendConnection connection = new BackendConnection(address, this);
        Promise<BackendConnection> promise = loop.newPromise();
        bootstrap.clone()
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline()
                                .addLast("idle", new IdleTimeout(limits.backendIdleTimeout().toNanos()))
                                .addLast("guard", connection.idleGuard())
                                .addLast("decode", connection.decoder())
                                .addLast("encode", new DynoRequestEncoder())
                                .addLast("dyno", connection);
                    }
                })
                .connect(address)
                .addListener((ChannelFutureListener) f -> {
                    if (f.isSuccess()) {
                        openCount.incrementAndGet();
                        f.channel().closeFuture().addListener(closed -> openCount.decrementAndGet());
                        promise.trySuccess(connection);
                    } else {
                        promise.tryFailure(f.cause());
                    }
                });
        return promise;
    }

    /** Takes a connection back after an exchange; closes it unless it is clean and still open. */
    void release(BackendConnection connection, boolean reusable) {
        assert loop.inEventLoop();
        Channel ch = connection.channel();
        ch.config().setAutoRead(true); // a paused connection reads again: the idle guard must see strays
        if (!reusable || !ch.isActive()) {
            ch.close();
            return;
        }
        ArrayDeque<BackendConnection> queue = idle.computeIfAbsent(connection.address(), a -> new ArrayDeque<>());
        if (queue.size() >= limits.maxIdlePerBackend()) {
            ch.close();
            return;
        }
        queue.addFirst(connection);
        idleCount.incrementAndGet();
    }

    /** Drops a connection that closed (while idle or not). */
    void forget(BackendConnection connection) {
        ArrayDeque<BackendConnection> queue = idle.get(connection.address());
        if (queue != null && queue.remove(connection)) {
            idleCount.decrementAndGet();
            if (queue.isEmpty()) {
                idle.remove(connection.address());
            }
        }
    }

    /** Idle connections to {@code address}; for tests and diagnostics, on the loop. */
    int idleCount(InetSocketAddress address) {
        ArrayDeque<BackendConnection> queue = idle.get(address);
        return queue == null ? 0 : queue.size();
    }

    /** Dyno connections open now, idle or not; any thread. */
    int openConnections() {
        return openCount.get();
    }

    /** Dyno connections idle in the pool now; any thread. */
    int idleConnections() {
        return idleCount.get();
    }

    EventLoop loop() {
        return loop;
    }
}

package io.dynoplane.router;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The HTTP router: accepts HTTP/1.x from clients, routes by Host through the current
 * {@link RouteTable}, and forwards to a random up web dyno over pooled keep-alive connections.
 *
 * <p>Client pipeline, one job per handler:
 * <pre>
 *   idle      IdleStateHandler     closes keep-alive connections idle for 90 s between requests
 *   head      HeadTimeout          closes a client whose request head is not complete 30 s after its
 *                                  first byte (or after connecting): slowloris
 *   decode    StrictRequestDecoder bytes → HTTP objects (head, then body pieces), only unambiguously
 *                                  framed requests (8 KiB lines, 1000 headers, CRLF, one plain chunked or
 *                                  one Content-Length, one Host); anything else becomes a failed request,
 *                                  rest discarded
 *   encode    HttpResponseEncoder  HTTP objects → bytes
 *   arrival   ArrivalStamper       notes when each request head arrived
 *   expect    ExpectContinue       answers Expect: 100-continue itself (in order), flags others (417)
 *   flow      FlowControlHandler   one message per read(): ordered, back-pressured pipelining and body
 *   route     RequestRouter        route, answer router errors (400/417 H26 then close), drive the
 *                                  ProxyExchange: body pieces go to the dyno only while its connection
 *                                  is writable, response pieces come back while the client is (else the
 *                                  dyno connection stops reading); responses to HEAD and 1xx/204/304 go
 *                                  out without a body; a response without a length is chunked to 1.1
 *                                  clients and close-delimited to 1.0 clients
 * </pre>
 * Nothing is aggregated: a body of any size passes with memory bounded by the write-buffer water marks
 * and one read per direction. Dyno connections ({@link BackendPool}: HttpRequestEncoder,
 * DynoResponseDecoder, BackendConnection) live in a pool per event loop and are created on the client's
 * own loop, so a request never crosses threads; a connection goes back to the pool only once its
 * response has been read in full and its request written in full.
 *
 * <p>Routing ({@link RequestRouter}): maintenance → H80; no web dynos → H14; the app's in-flight cap
 * (200 per web dyno) → H11; a random up dyno, passing over quarantined ones; none up but some booting →
 * the request waits (unread body and all) up to 75 s for one, then H20; all crashed → H10. A dyno
 * that refuses or times out a connect is quarantined briefly and the request tried on another
 * ({@link ProxyExchange}); H21/H19 only when all fail.
 *
 * <p>Upgrade: when a dyno answers a forwarded {@code Upgrade} with 101, the 101 goes to the client and
 * the HTTP handlers above (decode to route) leave both pipelines for a {@link Tunnel} splicing raw bytes
 * both ways; {@code idle} (and anything else, such as TLS) stays.
 *
 * <p>{@link #drain(Duration)} stops accepting, lets requests in flight finish up to a deadline and then
 * closes; {@link RouterMetrics} holds the Prometheus metrics.
 */
public final class Router implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Router.class.getName());

    private final Transport transport;
    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final ChannelGroup clients;
    private final RouterRuntime runtime;
    private final RouterMetrics metrics;
    private final LogSinks logs;
    private final RouterLimits limits;
    private final InetSocketAddress boundAddress;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final PrometheusRegistry registry; // null when started without one

    private Router(Transport transport, EventLoopGroup group, Channel serverChannel, ChannelGroup clients,
                   RouterRuntime runtime, RouterMetrics metrics, LogSinks logs, RouterLimits limits,
                   PrometheusRegistry registry) {
        this.transport = transport;
        this.group = group;
        this.serverChannel = serverChannel;
        this.clients = clients;
        this.runtime = runtime;
        this.metrics = metrics;
        this.logs = logs;
        this.limits = limits;
        this.registry = registry;
        this.boundAddress = (InetSocketAddress) serverChannel.localAddress();
    }

    /** Binds and starts serving, without metrics registration. */
    public static Router start(RouterConfig config) {
        return start(config, null, Transport.select(), RouterLimits.DEFAULTS);
    }

    /** Binds and starts serving, registering the router's metrics into {@code registry}. */
    public static Router start(RouterConfig config, PrometheusRegistry registry) {
        return start(config, Objects.requireNonNull(registry, "registry"), Transport.select(), RouterLimits.DEFAULTS);
    }

    static Router start(RouterConfig config, PrometheusRegistry registry, Transport transport, RouterLimits limits) {
        Objects.requireNonNull(config, "config");
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(config.ioThreads(),
                new DefaultThreadFactory("router-" + transport.label()), transport.newIoHandlerFactory());
        try {
            Map<EventLoop, BackendPool> pools = new HashMap<>();
            for (EventExecutor executor : group) {
                EventLoop loop = (EventLoop) executor;
                pools.put(loop, new BackendPool(loop, transport, limits));
            }
            RouterMetrics metrics = new RouterMetrics();
            LogSinks logs = new LogSinks();
            RouterRuntime runtime = new RouterRuntime(config.routerName(), limits, metrics, logs, pools);
            ChannelGroup clients = new DefaultChannelGroup("router-clients", GlobalEventExecutor.INSTANCE);
            metrics.observe(new RouterMetrics.Sources(
                    clients::size,
                    () -> pools.values().stream().mapToInt(BackendPool::openConnections).sum(),
                    () -> pools.values().stream().mapToInt(BackendPool::idleConnections).sum(),
                    runtime::inFlight));

            ServerBootstrap bootstrap = new ServerBootstrap()
                    .group(group)
                    .channel(transport.serverChannelType())
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.AUTO_READ, false) // RequestRouter asks for each request
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            clients.add(ch);
                            ch.pipeline()
                                    .addLast("idle", new IdleStateHandler(0, 0,
                                            limits.clientIdleTimeout().toNanos(), TimeUnit.NANOSECONDS))
                                    .addLast("head", new HeadTimeout(limits.headTimeout().toNanos(),
                                            metrics::headTimedOut))
                                    .addLast("decode", new StrictRequestDecoder())
                                    .addLast("encode", new HttpResponseEncoder())
                                    .addLast("arrival", ArrivalStamper.INSTANCE)
                                    .addLast("expect", new ExpectContinue())
                                    .addLast("flow", new FlowControlHandler())
                                    .addLast("route", new RequestRouter(runtime));
                        }
                    });

            // Register first: a name clash should fail before anything listens.
            if (registry != null) {
                metrics.register(registry);
            }
            ChannelFuture bind = bootstrap.bind(config.listen()).awaitUninterruptibly();
            if (!bind.isSuccess()) {
                if (registry != null) {
                    metrics.unregister(registry);
                }
                throw bindFailure(config.listen(), bind.cause());
            }
            Router router = new Router(transport, group, bind.channel(), clients, runtime, metrics, logs, limits,
                    registry);
            LOG.log(System.Logger.Level.INFO, "router {0} listening on {1} with the {2} transport ({3})",
                    config.routerName(), router.boundAddress, transport.label(),
                    transport == Transport.IO_URING ? "io_uring available"
                            : Transport.IO_URING.isAvailable() ? "io_uring available but not selected"
                            : "io_uring unavailable: " + Transport.IO_URING.unavailabilityCause());
            return router;
        } catch (RuntimeException | Error e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS).awaitUninterruptibly();
            throw e;
        }
    }

    private static UncheckedIOException bindFailure(InetSocketAddress listen, Throwable cause) {
        String where = describe(listen);
        BindException e = new BindException("router cannot listen on " + where + ": " + cause.getMessage());
        e.initCause(cause);
        return new UncheckedIOException(e.getMessage(), e);
    }

    /** {@code 127.0.0.1:8080}, or {@code localhost/127.0.0.1:8080} when a name was given. */
    private static String describe(InetSocketAddress address) {
        if (address.getAddress() == null) {
            return address.getHostString() + ":" + address.getPort();
        }
        String ip = address.getAddress().getHostAddress();
        String host = address.getHostString();
        String literal = ip.contains(":") ? "[" + ip + "]" : ip;
        return (host.equals(ip) ? "" : host + "/") + literal + ":" + address.getPort();
    }

    /** The bound port (useful when the config asked for port 0). */
    public int port() {
        return boundAddress.getPort();
    }

    /** The bound address. */
    public InetSocketAddress address() {
        return boundAddress;
    }

    /** {@code "io_uring"} or {@code "epoll"}. */
    public String transportName() {
        return transport.label();
    }

    /** Atomically replaces the route table; requests already routed keep their choice. */
    public void publish(RouteTable table) {
        runtime.publish(table);
    }

    /** The route table currently in force. */
    public RouteTable routes() {
        return runtime.routes();
    }

    /**
     * Adds a sink for router log lines, one per request. Sinks are called on event loops: they must
     * not block (hand lines to a queue if the destination can be slow).
     */
    public void onLog(Consumer<String> sink) {
        logs.add(Objects.requireNonNull(sink, "sink"));
    }

    /** Client connections closed so far for not sending a request head in time. */
    long headTimeouts() {
        return metrics.headTimeouts();
    }

    /** Requests currently in the router, per app that has had any (for tests and diagnostics). */
    Map<String, Integer> inFlight() {
        return runtime.inFlight();
    }

    /** Whether the dyno at {@code address} is being passed over after failing to connect. */
    boolean quarantined(InetSocketAddress address) {
        return runtime.quarantined(address);
    }

    /** Latency of proxied requests since start (microseconds). */
    public LatencySnapshot latency() {
        return metrics.snapshot();
    }

    /**
     * Graceful stop with the configured drain timeout (10 s); see {@link #drain(Duration)}.
     */
    @Override
    public void close() {
        drain(limits.drainTimeout());
    }

    /**
     * Graceful stop, e.g. on SIGTERM: stops accepting at once (new connections are refused), closes idle
     * keep-alive client connections, lets requests in flight (and requests queued for a booting app)
     * finish with {@code Connection: close} for up to {@code deadline}, then closes whatever is left
     * (tunnels included) and shuts the event loops down, which closes the pooled dyno connections.
     * Returns when all that is done. Idempotent: later calls, and {@link #close()}, return at once.
     * Must not be called from one of the router's own event loops.
     */
    public void drain(Duration deadline) {
        Objects.requireNonNull(deadline, "deadline");
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        runtime.startDraining();
        serverChannel.close().awaitUninterruptibly();
        for (Channel client : clients) {
            client.eventLoop().execute(() -> client.pipeline().fireUserEventTriggered(RequestRouter.Drain.INSTANCE));
        }
        if (!clients.newCloseFuture().awaitUninterruptibly(deadline.toMillis())) {
            LOG.log(System.Logger.Level.WARNING, "router drain deadline ({0}) passed; closing remaining connections",
                    deadline);
            clients.close().awaitUninterruptibly();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        if (registry != null) {
            metrics.unregister(registry); // lets a new router register into the same registry
        }
        LOG.log(System.Logger.Level.INFO, "router on {0} closed", boundAddress);
    }
}

package io.dynoplane.router;

import io.dynoplane.ffm.ThreadAffinity;
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
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The HTTP router: accepts HTTP/1.x and HTTP/2 (h2c with prior knowledge on the plain listener, h2 by
 * ALPN on the optional TLS listener) from clients, routes by Host (or {@code :authority}) through the
 * current {@link RouteTable}, and forwards to a random up web dyno over pooled keep-alive HTTP/1.1
 * connections. {@link ClientPipelines} builds the pipelines.
 *
 * <p>HTTP/1.x client pipeline, one job per handler:
 * <pre>
 *   idle      IdleTimeout          closes keep-alive connections idle for 90 s between requests
 *   head      HeadTimeout          closes a client whose request head is not complete 30 s after its
 *                                  first byte (or after connecting): slowloris
 *   h2c       Http2PriorKnowledge  (plain listener) looks at the first bytes once: the HTTP/2 preface
 *                                  swaps this pipeline for the HTTP/2 one below; either way it leaves
 *   decode    StrictRequestDecoder bytes → HTTP objects (head, then body pieces), only unambiguously
 *                                  framed requests (8 KiB lines, 1000 headers, CRLF, one plain chunked or
 *                                  one Content-Length, one Host); anything else becomes a failed request,
 *                                  rest discarded
 *   encode    ClientResponseEncoder HTTP objects → bytes; a passed-through dyno response goes as it is
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
 * TLS listener: {@code sni} (SniHandler: certificate by server name, the first configured one when
 * none matches; it becomes the SslHandler), then {@code alpn} ({@link TlsNegotiator}) which, after the
 * handshake, installs the HTTP/1.1 handlers above (from {@code idle}, without {@code h2c}) or the
 * HTTP/2 ones, and leaves.
 *
 * <p>HTTP/2 connection ({@code h2idle} IdleStateHandler, {@code h2} Http2FrameCodec, {@code h2streams}
 * Http2MultiplexHandler, {@code h2conn} {@link Http2Connection}: GOAWAY on drain or idle) with one
 * child channel per stream:
 * <pre>
 *   h2http    Http2StreamFrameToHttpObjectCodec  frames ↔ HTTP/1.1 objects
 *   h2req     Http2Requests        head and body as separate messages, x-http2-* headers removed,
 *                                  Host ≠ :authority: stream reset
 *   arrival, expect, flow, route   as for HTTP/1.x: each stream is a connection with one request
 * </pre>
 * The HTTP/2 connection reads on its own; per-stream flow control (a window opens as the stream's
 * child channel reads) does the back-pressure that auto-read off does for HTTP/1.x.
 *
 * <p>Nothing is aggregated: a body of any size passes with memory bounded by the write-buffer water marks
 * and one read per direction. Dyno connections ({@link BackendPool}: DynoRequestEncoder,
 * DynoResponseDecoder, BackendConnection) live in a pool per event loop and are created on the client's
 * own loop, so a request never crosses threads; a connection goes back to the pool only once its
 * response has been read in full and its request written in full. A usual response to an HTTP/1.1 client
 * (Content-Length framed, nothing to rewrite) is not decoded: its head goes on as the dyno's bytes plus the
 * router's lines, its body by length ({@link PassThroughHead}); any other is decoded and encoded again.
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
    private final Channel tlsServerChannel; // null without a TLS listener
    private final ChannelGroup clients;
    private final RouterRuntime runtime;
    private final RouterMetrics metrics;
    private final LogSinks logs;
    private final RouterLimits limits;
    private final InetSocketAddress boundAddress;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final PrometheusRegistry registry; // null when started without one

    private Router(Transport transport, EventLoopGroup group, Channel serverChannel, Channel tlsServerChannel,
                   ChannelGroup clients,
                   RouterRuntime runtime, RouterMetrics metrics, LogSinks logs, RouterLimits limits,
                   PrometheusRegistry registry) {
        this.transport = transport;
        this.group = group;
        this.serverChannel = serverChannel;
        this.tlsServerChannel = tlsServerChannel;
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
                new DefaultThreadFactory("router-" + transport.label()), transport.newIoHandlerFactory(config.idlePoll()));
        try {
            pinEventLoops(group, config.ioCpus());
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
            ClientPipelines pipelines = new ClientPipelines(runtime, metrics::headTimedOut,
                    config.tls() == null ? null : SniCertificates.load(config.tls()));

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
                            pipelines.plain(ch);
                        }
                    });
            transport.applySocketOptions(bootstrap::childOption);

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
            Channel tlsChannel = null;
            if (config.tls() != null) {
                ChannelFuture tlsBind = bootstrap.clone()
                        .childHandler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                clients.add(ch);
                                pipelines.tls(ch);
                            }
                        })
                        .bind(config.tls().listen()).awaitUninterruptibly();
                if (!tlsBind.isSuccess()) {
                    bind.channel().close().awaitUninterruptibly();
                    if (registry != null) {
                        metrics.unregister(registry);
                    }
                    throw bindFailure(config.tls().listen(), tlsBind.cause());
                }
                tlsChannel = tlsBind.channel();
            }
            Router router = new Router(transport, group, bind.channel(), tlsChannel, clients, runtime, metrics, logs,
                    limits, registry);
            LOG.log(System.Logger.Level.INFO, "router {0} listening on {1}{4} with the {2} transport ({3})",
                    config.routerName(), router.boundAddress, transport.label(),
                    transport == Transport.IO_URING ? "io_uring available"
                            : Transport.IO_URING.isAvailable() ? "io_uring available but not selected"
                            : "io_uring unavailable: " + Transport.IO_URING.unavailabilityCause(),
                    tlsChannel == null ? "" : " and (TLS) on " + tlsChannel.localAddress());
            return router;
        } catch (RuntimeException | Error e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS).awaitUninterruptibly();
            throw e;
        }
    }

    /** Event loop i onto {@code cpus[i % size]}, each pinning itself (sched_setaffinity acts on the calling thread). */
    private static void pinEventLoops(EventLoopGroup group, List<Integer> cpus) {
        if (cpus.isEmpty()) {
            return;
        }
        int i = 0;
        for (EventExecutor loop : group) {
            int cpu = cpus.get(i++ % cpus.size());
            BitSet mask = new BitSet();
            mask.set(cpu);
            Future<?> pinned = loop.submit(() -> ThreadAffinity.pinCurrentThread(mask)).awaitUninterruptibly();
            if (!pinned.isSuccess()) {
                throw new IllegalArgumentException("router ioCpus " + cpus + ": cannot pin an event loop to CPU " + cpu
                        + ": " + pinned.cause().getMessage(), pinned.cause());
            }
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

    /** The bound port of the TLS listener, or -1 without one. */
    public int tlsPort() {
        return tlsServerChannel == null ? -1 : ((InetSocketAddress) tlsServerChannel.localAddress()).getPort();
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

    /** Tests only: requests for {@code host} fail inside the router, as a bug would. */
    void failRequestsFor(String host) {
        runtime.failRequestsFor(host);
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
        Objects.requireNonNull(sink, "sink");
        logs.add((app, line) -> sink.accept(line));
    }

    /** Like {@link #onLog}, with the line's app (null for a request no app took, e.g. an unknown host). */
    public void onAppLog(java.util.function.BiConsumer<String, String> sink) {
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
        if (tlsServerChannel != null) {
            tlsServerChannel.close().awaitUninterruptibly();
        }
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

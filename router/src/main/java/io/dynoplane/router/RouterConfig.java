package io.dynoplane.router;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How a {@link Router} listens.
 *
 * @param listen     address to bind; port 0 picks an ephemeral port (see {@link Router#port()})
 * @param routerName goes into {@code Via: 1.1 <routerName>}, so it must be a plain token
 * @param ioThreads  event loops; 0 lets Netty choose (twice the cores)
 * @param tls        a second, TLS listener (HTTP/1.1 and HTTP/2 by ALPN, certificate by SNI); null for none
 * @param ioCpus     CPUs for the event loops, loop i on {@code ioCpus[i % size]}; empty: wherever the scheduler
 *                   puts them. Give them cores the JVM's other threads are kept off, or a collector or compiler
 *                   thread can hold the loop's core for a whole scheduler slice (milliseconds of tail latency).
 * @param idlePoll   how long, at most, an io_uring loop with nothing to do polls its ring before it sleeps (the window
 *                   adapts below it: {@link IdlePolling}); zero: it sleeps at once. Spinning is only free on a core
 *                   of the loop's own, so give it with {@code ioCpus}.
 */
public record RouterConfig(InetSocketAddress listen, String routerName, int ioThreads, RouterTls tls, List<Integer> ioCpus,
                           Duration idlePoll) {
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9._-]+");
    /** The idle poll for loops pinned to cores of their own: the kernel's default maximum for its guest haltpoll, there
     *  for the same reason (waking a halted vCPU costs tens of microseconds); 50 us left the window flapping at rates
     *  whose gaps came near it. */
    static final Duration PINNED_IDLE_POLL = Duration.ofNanos(200_000);
    private static final Duration MAX_IDLE_POLL = Duration.ofMillis(1);

    public RouterConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(routerName, "routerName");
        if (!TOKEN.matcher(routerName).matches()) {
            throw new IllegalArgumentException("routerName must match " + TOKEN + ": '" + routerName + "'");
        }
        if (ioThreads < 0) {
            throw new IllegalArgumentException("ioThreads must be >= 0 (0 = Netty default): " + ioThreads);
        }
        ioCpus = List.copyOf(Objects.requireNonNull(ioCpus, "ioCpus"));
        for (int cpu : ioCpus) {
            if (cpu < 0) {
                throw new IllegalArgumentException("ioCpus must be CPU numbers >= 0: " + ioCpus);
            }
        }
        Objects.requireNonNull(idlePoll, "idlePoll");
        if (idlePoll.isNegative() || idlePoll.compareTo(MAX_IDLE_POLL) > 0) {
            throw new IllegalArgumentException("idlePoll must be between 0 and " + MAX_IDLE_POLL.toNanos() / 1000 + " us: " + idlePoll);
        }
    }

    /** Loops that sleep as soon as they have nothing to do. */
    public RouterConfig(InetSocketAddress listen, String routerName, int ioThreads, RouterTls tls, List<Integer> ioCpus) {
        this(listen, routerName, ioThreads, tls, ioCpus, Duration.ZERO);
    }

    /** Event loops not pinned. */
    public RouterConfig(InetSocketAddress listen, String routerName, int ioThreads, RouterTls tls) {
        this(listen, routerName, ioThreads, tls, List.of());
    }

    /** Plain HTTP only. */
    public RouterConfig(InetSocketAddress listen, String routerName, int ioThreads) {
        this(listen, routerName, ioThreads, null);
    }

    /** The same, with a TLS listener. */
    public RouterConfig withTls(RouterTls tls) {
        return new RouterConfig(listen, routerName, ioThreads, Objects.requireNonNull(tls, "tls"), ioCpus, idlePoll);
    }

    /** The same, with the event loops pinned to {@code cpus}. */
    public RouterConfig withIoCpus(List<Integer> cpus) {
        return new RouterConfig(listen, routerName, ioThreads, tls, cpus, idlePoll);
    }

    /**
     * The same, with the event loops on cores of their own ({@code cpus}, kept free of other work): pinned there, and
     * polling for up to {@link #PINNED_IDLE_POLL} before they sleep, since spinning there costs no one else.
     */
    public RouterConfig withDedicatedCores(List<Integer> cpus) {
        return withIoCpus(cpus).withIdlePoll(PINNED_IDLE_POLL);
    }

    /** The same, with loops that poll for up to {@code max} before they sleep. */
    public RouterConfig withIdlePoll(Duration max) {
        return new RouterConfig(listen, routerName, ioThreads, tls, ioCpus, max);
    }
}

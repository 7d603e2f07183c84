package io.dynoplane.router;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringAdaptiveBufferRingAllocator;
import io.netty.channel.uring.IoUringBufferRingConfig;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoHandlerConfig;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;

import java.time.Duration;
import java.util.Map;

/** The native transports the router runs on: io_uring, with epoll only where io_uring is missing. */
enum Transport {
    IO_URING("io_uring") {
        @Override
        boolean isAvailable() {
            return IoUring.isAvailable();
        }

        @Override
        Throwable unavailabilityCause() {
            return IoUring.unavailabilityCause();
        }

        @Override
        IoHandlerFactory newIoHandlerFactory(Duration idlePoll) {
            // A ring of provided buffers per loop: sockets read with one multishot recv each, a completion per
            // arrival with the data in it, instead of a poll completion, a recv submission and its completion.
            // Not incremental: a buffer partly used by an earlier read then takes only what fits in its rest,
            // which split one in seven 256-byte dyno response heads into two reads (two pipeline passes).
            return IdlePolling.wrap(IoUringIoHandler.newFactory(new IoUringIoHandlerConfig().setBufferRingConfig(IoUringBufferRingConfig.builder()
                    .bufferGroupId(BUFFER_GROUP)
                    .bufferRingSize((short) 1024)
                    .batchSize(64)
                    .allocator(new IoUringAdaptiveBufferRingAllocator())
                    .incremental(false)
                    .build())), idlePoll);
        }

        @Override
        Map<ChannelOption<?>, Object> socketOptions() {
            return Map.of(IoUringChannelOption.IO_URING_BUFFER_GROUP_ID, BUFFER_GROUP);
        }

        @Override
        Class<? extends ServerChannel> serverChannelType() {
            return IoUringServerSocketChannel.class;
        }

        @Override
        Class<? extends Channel> socketChannelType() {
            return IoUringSocketChannel.class;
        }
    },
    EPOLL("epoll") {
        @Override
        boolean isAvailable() {
            return Epoll.isAvailable();
        }

        @Override
        Throwable unavailabilityCause() {
            return Epoll.unavailabilityCause();
        }

        @Override
        IoHandlerFactory newIoHandlerFactory(Duration idlePoll) {
            // No idle poll: the fallback transport sleeps at once.
            return EpollIoHandler.newFactory();
        }

        @Override
        Map<ChannelOption<?>, Object> socketOptions() {
            return Map.of();
        }

        @Override
        Class<? extends ServerChannel> serverChannelType() {
            return EpollServerSocketChannel.class;
        }

        @Override
        Class<? extends Channel> socketChannelType() {
            return EpollSocketChannel.class;
        }
    };

    private static final System.Logger LOG = System.getLogger(Router.class.getName());
    /** The io_uring loops' ring of provided receive buffers. */
    private static final short BUFFER_GROUP = 1;

    private final String label;

    Transport(String label) {
        this.label = label;
    }

    String label() {
        return label;
    }

    abstract boolean isAvailable();

    abstract Throwable unavailabilityCause();

    /** Loops of this transport; io_uring's poll their ring for up to {@code idlePoll} before they sleep. */
    abstract IoHandlerFactory newIoHandlerFactory(Duration idlePoll);

    /** Options for every connected socket of this transport, client and dyno side. */
    abstract Map<ChannelOption<?>, Object> socketOptions();

    /** Sets {@link #socketOptions()} through {@code option} (a bootstrap's option or childOption). */
    @SuppressWarnings("unchecked")
    void applySocketOptions(java.util.function.BiConsumer<ChannelOption<Object>, Object> option) {
        socketOptions().forEach((name, value) -> option.accept((ChannelOption<Object>) name, value));
    }

    abstract Class<? extends ServerChannel> serverChannelType();

    abstract Class<? extends Channel> socketChannelType();

    /** io_uring if the kernel and native library allow it, else epoll (with the reason logged). */
    static Transport select() {
        if (IO_URING.isAvailable()) {
            return IO_URING;
        }
        Throwable why = IO_URING.unavailabilityCause();
        if (EPOLL.isAvailable()) {
            LOG.log(System.Logger.Level.WARNING, "io_uring unavailable, falling back to epoll: " + why, why);
            return EPOLL;
        }
        throw new IllegalStateException("neither io_uring nor epoll is available (io_uring: " + why
                + "; epoll: " + EPOLL.unavailabilityCause() + ")", why);
    }
}

package io.dynoplane.router;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.AsciiString;

/**
 * Notes when each request head arrives, before it waits its turn behind pipelined requests. The stamp rides
 * in an internal header because that is the one thing that survives queueing and pipelining
 * tied to its own request; {@link #take} removes it before anything else looks at the headers, and
 * {@code set} overwrites anything a client sent under that name. A {@link PassThroughRequest} keeps its stamp in
 * fields of its own (it has no header map to spare, and a client line of that name keeps it off the fast path).
 */
@ChannelHandler.Sharable
final class ArrivalStamper extends ChannelInboundHandlerAdapter {
    static final ArrivalStamper INSTANCE = new ArrivalStamper();
    static final AsciiString ARRIVAL = AsciiString.cached("x-dynoplane-arrival");

    /** Monotonic nanos for latency; wall-clock millis for X-Request-Start. */
    record Arrival(long nanos, long epochMillis) {
        static Arrival now() {
            return new Arrival(System.nanoTime(), System.currentTimeMillis());
        }
    }

    private ArrivalStamper() {
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof PassThroughRequest request) {
            request.arrived(System.nanoTime(), System.currentTimeMillis());
        } else if (msg instanceof HttpRequest request) {
            request.headers().set(ARRIVAL, System.nanoTime() + " " + System.currentTimeMillis());
        }
        ctx.fireChannelRead(msg);
    }

    /** Removes the stamp from {@code headers}; a missing stamp (never expected) reads as "now". */
    static Arrival take(HttpRequest request) {
        if (request instanceof PassThroughRequest passThrough) {
            return passThrough.arrival();
        }
        HttpHeaders headers = request.headers();
        String stamp = headers.get(ARRIVAL);
        headers.remove(ARRIVAL);
        if (stamp != null) {
            int space = stamp.indexOf(' ');
            try {
                return new Arrival(Long.parseLong(stamp, 0, space, 10),
                        Long.parseLong(stamp, space + 1, stamp.length(), 10));
            } catch (RuntimeException ignored) {
                // fall through
            }
        }
        return Arrival.now();
    }
}

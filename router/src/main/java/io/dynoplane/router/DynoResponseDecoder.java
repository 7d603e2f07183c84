package io.dynoplane.router;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpStatusClass;

import java.util.List;

/**
 * Decodes a dyno's responses, one request at a time (the router never pipelines to a dyno), so it
 * needs no method queue: the exchange says whether the request in flight was a HEAD. It also tells
 * whether bytes beyond the response it just produced are waiting undecoded; a dyno that sent a body
 * where HTTP allows none (HEAD, 204, 304) leaves them there, and such a connection must not be reused.
 *
 * <p>When the exchange allows it, a response whose head qualifies ({@link PassThroughHead}) is not decoded at all:
 * the head and then its Content-Length worth of bytes go on as {@link PassThrough} pieces. A head that qualifies so
 * far waits for the rest of it; any other response, from its first byte, goes through Netty's decoder.
 */
final class DynoResponseDecoder extends HttpResponseDecoder {
    private boolean headInFlight;
    private boolean passThroughAllowed; // until the response to the request in flight has begun
    private long passThroughRemaining;  // body bytes of a passed-through response still to come

    DynoResponseDecoder() {
        super(new HttpDecoderConfig());
    }

    /** Set by the exchange before it writes its request; {@code passThrough}: the client can take a response as bytes. */
    void expectResponseTo(boolean head, boolean passThrough) {
        headInFlight = head;
        passThroughAllowed = passThrough && !head;
        passThroughRemaining = 0;
    }

    /** Bytes received but not part of any response decoded so far. */
    int undecodedBytes() {
        return actualReadableBytes();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (passThroughRemaining > 0) {
            int n = (int) Math.min(in.readableBytes(), passThroughRemaining);
            passThroughRemaining -= n;
            ByteBuf piece = in.readRetainedSlice(n);
            out.add(passThroughRemaining == 0 ? new PassThrough.Last(piece) : new PassThrough.Content(piece));
            return;
        }
        if (passThroughAllowed) {
            PassThroughHead head = PassThroughHead.readFrom(in);
            if (head == PassThroughHead.NOT_YET) {
                return; // the rest of the head is still to come (at most MAX_HEAD_BYTES are held back)
            }
            passThroughAllowed = false; // this response goes one way or the other, whole
            if (head != null) {
                out.add(head);
                passThroughRemaining = head.contentLength();
                if (passThroughRemaining == 0) {
                    out.add(new PassThrough.Last(Unpooled.EMPTY_BUFFER));
                }
                return;
            }
        }
        super.decode(ctx, in, out);
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        passThroughAllowed = false; // a head cut short by the close is the HTTP decoder's to judge
        super.decodeLast(ctx, in, out);
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
        if (((HttpResponse) msg).status().code() == 101) {
            return true; // whatever follows is the new protocol's (Netty would read a Hixie-76 body)
        }
        if (headInFlight && ((HttpResponse) msg).status().codeClass() != HttpStatusClass.INFORMATIONAL) {
            return true;
        }
        return super.isContentAlwaysEmpty(msg);
    }
}

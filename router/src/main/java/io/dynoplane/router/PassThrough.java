package io.dynoplane.router;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;

/**
 * Bytes of a dyno response that reach the client as they are ({@link PassThroughHead}): the head, then its body in
 * {@link Content} pieces and a {@link Last} one. The body pieces are HTTP content to everything between the two
 * connections (the exchange, back-pressure, the request log); {@link ClientResponseEncoder} writes them without
 * framing, since the head already carries the dyno's Content-Length.
 */
sealed interface PassThrough extends ByteBufHolder permits PassThroughHead, PassThrough.Content, PassThrough.Last {

    /** A piece of a passed-through body. */
    final class Content extends DefaultHttpContent implements PassThrough {
        Content(ByteBuf bytes) {
            super(bytes);
        }
    }

    /** The last piece of a passed-through body (empty for an empty body); it never has trailers. */
    final class Last extends DefaultLastHttpContent implements PassThrough {
        Last(ByteBuf bytes) {
            super(bytes, EmptyHttpHeaders.INSTANCE); // not a header map per response that stays empty
        }
    }
}

package io.dynoplane.router;

import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpStatusClass;

/**
 * Decodes a dyno's responses, one request at a time (the router never pipelines to a dyno), so it
 * needs no method queue: the exchange says whether the request in flight was a HEAD. It also tells
 * whether bytes beyond the response it just produced are waiting undecoded; a dyno that sent a body
 * where HTTP allows none (HEAD, 204, 304) leaves them there, and such a connection must not be reused.
 */
final class DynoResponseDecoder extends HttpResponseDecoder {
    private boolean headInFlight;

    DynoResponseDecoder() {
        super(new HttpDecoderConfig());
    }

    /** Set by the exchange before it writes its request. */
    void expectResponseTo(boolean head) {
        headInFlight = head;
    }

    /** Bytes received but not part of any response decoded so far. */
    int undecodedBytes() {
        return actualReadableBytes();
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

package io.dynoplane.router;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

import java.util.ArrayDeque;
import java.util.List;

/**
 * Answers {@code Expect} so dynos never see it: {@code 100-continue} gets {@code 100 Continue} from
 * the router, any other expectation marks the request failed with {@link ExpectationFailedException}
 * (RequestRouter answers 417 and closes). The header is removed either way. HTTP/1.0 clients cannot expect anything (RFC 9110 §10.1.1):
 * their Expect header is dropped.
 *
 * <p>A pipelined request's {@code 100 Continue} must not overtake the responses to the requests before
 * it, so it is written only once every earlier request has had its final response.
 */
final class ExpectContinue extends ChannelDuplexHandler {
    /** Marks a request whose expectation the router cannot meet. */
    static final class ExpectationFailedException extends IllegalArgumentException {
        ExpectationFailedException() {
            super("unsupported expectation", null);
        }
    }

    // One entry per request still waiting for its final response, oldest first: whether it waits for a
    // 100 Continue that could not be sent yet.
    private final ArrayDeque<Boolean> outstanding = new ArrayDeque<>();
    private boolean inFinalResponse; // a final response head went out, its last piece not yet

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request && request.decoderResult().isSuccess()) {
            boolean wantsContinue = false;
            if (request.headers().contains(HttpHeaderNames.EXPECT)) {
                List<String> expect = request.headers().getAll(HttpHeaderNames.EXPECT);
                request.headers().remove(HttpHeaderNames.EXPECT);
                if (!HttpVersion.HTTP_1_0.equals(request.protocolVersion())) {
                    if (expect.size() == 1 && isOnly100Continue(expect.getFirst())) {
                        wantsContinue = true;
                    } else {
                        request.setDecoderResult(DecoderResult.failure(new ExpectationFailedException()));
                    }
                }
            }
            if (wantsContinue && outstanding.isEmpty()) {
                writeContinue(ctx);
                wantsContinue = false;
            }
            outstanding.addLast(wantsContinue);
        } else if (msg instanceof HttpRequest) {
            outstanding.addLast(false); // a refused request still gets (and waits for) its response
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        // A final response ends with its last piece (the same object for a whole response): only then
        // may the next request's 100 Continue go out, or it would land in the middle of a body.
        if (msg instanceof HttpResponse response) {
            inFinalResponse = response.status().codeClass() != HttpStatusClass.INFORMATIONAL;
        } else if (msg instanceof PassThroughHead) {
            inFinalResponse = true; // only final responses pass through
        }
        boolean finalResponseEnds = inFinalResponse && msg instanceof LastHttpContent;
        ctx.write(msg, promise);
        if (finalResponseEnds) {
            inFinalResponse = false;
            outstanding.pollFirst();
            Boolean next = outstanding.peekFirst();
            if (next != null && next) {
                outstanding.pollFirst();
                outstanding.addFirst(false);
                writeContinue(ctx);
            }
        }
    }

    private static boolean isOnly100Continue(String expect) {
        return HttpHeaderValues.CONTINUE.contentEqualsIgnoreCase(expect.strip());
    }

    private static void writeContinue(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE))
                .addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
    }
}

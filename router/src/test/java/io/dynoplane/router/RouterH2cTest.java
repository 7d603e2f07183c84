package io.dynoplane.router;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * h2c with prior knowledge on the plain listener, from a Netty HTTP/2 client (the JDK client cannot
 * do prior knowledge), next to HTTP/1.1 on the same port.
 */
@ExtendWith(NoLeaks.class)
class RouterH2cTest {
    private static TestBackend web;
    private static Router router;
    private static EventLoopGroup clientGroup;
    private static final LogCapture logs = new LogCapture();

    @BeforeAll
    static void start() throws Exception {
        web = TestBackend.start("one");
        router = Router.start(new RouterConfig(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                "test-router", 2));
        router.onLog(logs);
        router.publish(RouteTable.empty()
                .with("hello.localhost", new AppRoute("hello", List.of(web.backend("web.1")))));
        clientGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stop() {
        clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        router.close();
        web.close();
    }

    /** Opens an h2c connection (prior knowledge) to the router. */
    private static Channel connect() {
        return new Bootstrap().group(clientGroup).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                    }
                })
                .connect(InetAddress.getLoopbackAddress(), router.port()).syncUninterruptibly().channel();
    }

    /** One GET on a new stream of {@code connection}; the response, aggregated, as text (status line, then body). */
    private static CompletableFuture<String> get(Channel connection, String uri, String requestId) {
        CompletableFuture<String> result = new CompletableFuture<>();
        Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection)
                .handler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel ch) {
                        ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false),
                                new HttpObjectAggregator(1 << 20),
                                new SimpleChannelInboundHandler<FullHttpResponse>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                                        result.complete(r.status().code() + "\n"
                                                + r.content().toString(StandardCharsets.UTF_8));
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        result.completeExceptionally(cause);
                                    }
                                });
                    }
                }).open().syncUninterruptibly().getNow();
        // Absolute form: the conversion makes :authority of it (the Host header is not sent in HTTP/2).
        DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
                "http://hello.localhost" + uri);
        request.headers().set(HttpHeaderNames.HOST, "hello.localhost").set("x-request-id", requestId);
        stream.writeAndFlush(request);
        return result;
    }

    @Test
    void priorKnowledgeStreamsReachTheDyno() throws Exception {
        Channel connection = connect();
        try {
            String a = get(connection, "/h2c/a", "h2c-a000000000000000000000").get(10, TimeUnit.SECONDS);
            String b = get(connection, "/h2c/b", "h2c-b000000000000000000000").get(10, TimeUnit.SECONDS);
            assertThat(a).startsWith("200\n").contains("uri=/h2c/a\n", "x-forwarded-proto: http\n",
                    "host: hello.localhost\n");
            assertThat(a).doesNotContain("x-http2-");
            assertThat(b).startsWith("200\n").contains("uri=/h2c/b\n");
        } finally {
            connection.close().syncUninterruptibly();
        }
        assertThat(logs.await("request_id=h2c-a000000000000000000000"))
                .contains("host=hello.localhost", "status=200", "protocol=http2 tls=false");
    }

    @Test
    void hostHeaderNamingAnotherAuthorityIsReset() throws Exception {
        int before = web.requests();
        Channel connection = connect();
        try {
            CompletableFuture<String> status = new CompletableFuture<>();
            Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection)
                    .handler(new SimpleChannelInboundHandler<Http2StreamFrame>() {
                        @Override
                        protected void channelRead0(ChannelHandlerContext ctx, Http2StreamFrame frame) {
                            if (frame instanceof Http2HeadersFrame headers) {
                                status.complete(headers.headers().status().toString());
                            }
                        }

                        @Override
                        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                            if (evt instanceof Http2ResetFrame reset) {
                                status.complete("reset " + reset.errorCode());
                            }
                        }
                    }).open().syncUninterruptibly().getNow();
            Http2Headers headers = new DefaultHttp2Headers().method("GET").scheme("http").path("/")
                    .authority("hello.localhost");
            headers.add("host", "other.localhost");
            headers.add("x-request-id", "h2c-host00000000000000000000");
            stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, true));
            assertThat(status.get(10, TimeUnit.SECONDS)).isEqualTo("reset " + Http2Error.PROTOCOL_ERROR.code());
        } finally {
            connection.close().syncUninterruptibly();
        }
        assertThat(web.requests()).isEqualTo(before);
    }

    @Test
    void http11StillWorksOnTheSamePort() throws Exception {
        String id = "h2c-h1000000000000000000000";
        try (var socket = new java.net.Socket(InetAddress.getLoopbackAddress(), router.port())) {
            socket.setSoTimeout(10_000);
            // "P" first, alone: the detector must wait for the next byte before deciding.
            socket.getOutputStream().write('P');
            socket.getOutputStream().flush();
            Thread.sleep(50);
            socket.getOutputStream().write(("OST /h1 HTTP/1.1\r\nHost: hello.localhost\r\nX-Request-Id: " + id
                    + "\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc").getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(response).startsWith("HTTP/1.1 200 OK\r\n").contains("method=POST\n", "body-bytes=3\n");
        }
        assertThat(logs.await("request_id=" + id)).contains("protocol=http1.1 tls=false");
    }
}

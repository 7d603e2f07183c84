package io.dynoplane.router;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * JMH micro-benchmarks of the router's per-request hot paths: header rewriting (request and response heads
 * decoded or passed through), X-Request-Id handling, dyno selection and the Host lookup. Run by {@code ./dynoplane bench router-hot}, with JMH's GC
 * profiler for bytes allocated per operation.
 *
 * <p>This class lives in the benchmarks module but in package {@code io.dynoplane.router}, so that it
 * can call the package-private {@link ForwardHeaders} and {@link RequestIds} directly. That works
 * because the router jar is neither a named module nor sealed: everything runs on the class path.
 * Should the router become a module, these benchmarks must move into it (or go through public API).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RouterHotPathsBench {

    /**
     * A realistic request head as the strict decoder hands it over: 13 headers, among them an incoming
     * X-Forwarded-For chain of two hops, a Via from a CDN, a Connection header naming a hop-by-hop
     * header, and a client X-Request-Id. Each benchmark invocation rewrites a fresh copy.
     */
    @State(Scope.Thread)
    public static class Request {
        HttpHeaders template;
        HttpMethod method;
        String uri;
        String clientIp;
        int routerPort;
        String routerName;
        long requestStartMillis;
        String requestId;

        @Setup
        public void setup() {
            template = new DefaultHttpHeaders();
            template.add("Host", "shop-frontend.dynoplane.local");
            template.add("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0");
            template.add("Accept", "application/json, text/plain, */*");
            template.add("Accept-Language", "en-GB,en;q=0.7,de;q=0.3");
            template.add("Accept-Encoding", "gzip, deflate, br, zstd");
            template.add("Content-Type", "application/json");
            template.add("Content-Length", "184");
            template.add("Cookie", "session=9f86d081884c7d659a2feaa0c55ad015; theme=dark; _ga=GA1.2.1234567890.1700000000");
            template.add("X-Forwarded-For", "203.0.113.195, 198.51.100.17");
            template.add("Via", "1.1 edge-cdn-fra2");
            template.add("Connection", "keep-alive, X-Cdn-Debug");
            template.add("X-Cdn-Debug", "hit=0; pop=fra2");
            template.add("X-Request-Id", "5f3c9b2e-8a1d-4c6e-9b7a-2d4e6f8a0b1c");
            method = HttpMethod.POST;
            uri = "/api/v1/carts/42/items?expand=product";
            clientIp = "192.0.2.44";
            routerPort = 8080;
            routerName = "dynoplane";
            requestStartMillis = System.currentTimeMillis();
            requestId = template.get(ForwardHeaders.X_REQUEST_ID);
        }

        /** What the decoder would produce: a new request whose headers hold the template's entries. */
        HttpRequest fresh() {
            HttpHeaders headers = new DefaultHttpHeaders();
            headers.add(template);
            return new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri, headers);
        }
    }

    /**
     * The baseline for {@link #forwardHeaders}: only the copy of the request head each invocation
     * needs, since the rewrite works in place. Subtract it to get the rewrite alone.
     */
    @Benchmark
    public HttpRequest forwardHeadersCopyOnly(Request r) {
        return r.fresh();
    }

    /**
     * What RequestRouter.route does to the head on its way to a dyno: the X-Forwarded-For chain, then
     * the in-place rewrite (hop-by-hop removal, X-Forwarded-*, X-Request-Start, X-Request-Id, Via).
     */
    @Benchmark
    public HttpRequest forwardHeaders(Request r) {
        HttpRequest request = r.fresh();
        String fwd = ForwardHeaders.forwardedFor(request.headers(), r.clientIp);
        ForwardHeaders.toDyno(request, new ForwardHeaders.Forwarding(
                fwd, r.routerPort, r.requestId, r.routerName, r.requestStartMillis));
        return request;
    }

    /**
     * A dyno's response head as nginx sends it for an empty file (256 bytes, Connection: keep-alive), relayed the
     * two ways the router can: decoded into a response object, rewritten and encoded again, or passed through as
     * bytes ({@link PassThroughHead}). Both go through the router's own decoder and client encoder on embedded
     * channels, so the two benchmarks differ only in the path taken.
     */
    @State(Scope.Thread)
    public static class DynoResponse {
        static final byte[] HEAD = ("HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Fri, 27 Nov 2026 03:08:27 GMT\r\n"
                + "Content-Type: application/octet-stream\r\nContent-Length: 0\r\n"
                + "Last-Modified: Fri, 27 Nov 2026 02:31:05 GMT\r\nConnection: keep-alive\r\n"
                + "ETag: \"6927b6b9-0\"\r\nAccept-Ranges: bytes\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        final String requestId = "5f3c9b2e-8a1d-4c6e-9b7a-2d4e6f8a0b1c";
        DynoResponseDecoder decoder;
        EmbeddedChannel dyno;
        EmbeddedChannel client;

        @Setup
        public void setup() {
            decoder = new DynoResponseDecoder();
            dyno = new EmbeddedChannel(decoder);
            client = new EmbeddedChannel(new ClientResponseEncoder());
        }

        @TearDown
        public void tearDown() {
            dyno.finishAndReleaseAll();
            client.finishAndReleaseAll();
        }

        /** One response from the dyno's bytes to the client's; returns the bytes the client gets. */
        int relay(boolean passThrough) {
            decoder.expectResponseTo(false, passThrough);
            dyno.writeInbound(dyno.alloc().directBuffer(HEAD.length).writeBytes(HEAD));
            for (Object m; (m = dyno.readInbound()) != null; ) {
                if (m instanceof HttpResponse response) {
                    ForwardHeaders.fromDyno(response, false);
                    response.headers().set(ForwardHeaders.X_REQUEST_ID, requestId);
                    ForwardHeaders.appendVia(response.headers(), "dynoplane");
                    client.writeOutbound(response);
                } else if (m instanceof PassThroughHead head) {
                    ForwardHeaders.appendRouterLines(head.content(), requestId, "dynoplane", false);
                    client.writeOutbound(head);
                } else {
                    client.writeOutbound(m);
                }
            }
            int bytes = 0;
            for (ByteBuf b; (b = client.readOutbound()) != null; ) {
                bytes += b.readableBytes();
                b.release();
            }
            return bytes;
        }
    }

    @Benchmark
    public int responseHeadDecoded(DynoResponse r) {
        return r.relay(false);
    }

    @Benchmark
    public int responseHeadPassedThrough(DynoResponse r) {
        return r.relay(true);
    }

    /**
     * A client's request head as curl sends it for a page (4 headers), relayed the two ways the router can: decoded
     * into a request object, rewritten and encoded again, or passed through as bytes ({@link PassThroughRequest}).
     * Both go through the router's own decoder and dyno encoder on embedded channels, so the two benchmarks differ
     * only in the path taken.
     */
    @State(Scope.Thread)
    public static class ClientRequest {
        static final byte[] HEAD = ("GET /products/42?ref=home HTTP/1.1\r\nHost: shop-frontend.dynoplane.local\r\n"
                + "User-Agent: curl/8.4.0\r\nAccept: */*\r\nAccept-Encoding: gzip\r\n\r\n")
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        final String requestId = "5f3c9b2e-8a1d-4c6e-9b7a-2d4e6f8a0b1c";
        EmbeddedChannel decoded;
        EmbeddedChannel passedThrough;
        EmbeddedChannel dyno;

        @Setup
        public void setup() {
            decoded = new EmbeddedChannel(new StrictRequestDecoder(false));
            passedThrough = new EmbeddedChannel(new StrictRequestDecoder(true));
            dyno = new EmbeddedChannel(new DynoRequestEncoder());
        }

        @TearDown
        public void tearDown() {
            decoded.finishAndReleaseAll();
            passedThrough.finishAndReleaseAll();
            dyno.finishAndReleaseAll();
        }

        /** One request from the client's bytes to the dyno's; returns the bytes the dyno gets. */
        int relay(EmbeddedChannel client) {
            client.writeInbound(client.alloc().directBuffer(HEAD.length).writeBytes(HEAD));
            for (Object m; (m = client.readInbound()) != null; ) {
                if (m instanceof HttpRequest request) {
                    String fwd = ForwardHeaders.forwardedFor(request.headers(), "192.0.2.44");
                    ForwardHeaders.toDyno(request, new ForwardHeaders.Forwarding(fwd, 8080, requestId, "dynoplane", 1_700_000_000_000L));
                }
                dyno.writeOutbound(m);
            }
            int bytes = 0;
            for (ByteBuf b; (b = dyno.readOutbound()) != null; ) {
                bytes += b.readableBytes();
                b.release();
            }
            return bytes;
        }
    }

    @Benchmark
    public int requestHeadDecoded(ClientRequest r) {
        return r.relay(r.decoded);
    }

    @Benchmark
    public int requestHeadPassedThrough(ClientRequest r) {
        return r.relay(r.passedThrough);
    }

    /** Incoming X-Request-Id values: one the router keeps, one it replaces with a fresh UUID. */
    @State(Scope.Thread)
    public static class Ids {
        String valid;
        String invalid;

        @Setup
        public void setup() {
            valid = "5f3c9b2e-8a1d-4c6e-9b7a-2d4e6f8a0b1c";           // a client UUID: 36 allowed chars
            invalid = "req 5f3c9b2e-8a1d-4c6e-9b7a-2d4e6f8a0b1c";     // right length, a space: rejected
        }
    }

    @Benchmark
    public String requestIdValid(Ids ids) {
        return RequestIds.resolve(ids.valid);
    }

    @Benchmark
    public String requestIdInvalid(Ids ids) {
        return RequestIds.resolve(ids.invalid);
    }

    /** Apps with 2 and 100 up web dynos, built like the plane builds them (AppRoute copies the list). */
    @State(Scope.Benchmark)
    public static class Dynos {
        AppRoute two;
        AppRoute hundred;

        @Setup
        public void setup() {
            two = app("two", 2);
            hundred = app("hundred", 100);
        }

        private static AppRoute app(String name, int dynos) {
            List<Backend> web = new ArrayList<>();
            for (int i = 0; i < dynos; i++) {
                web.add(new Backend("web." + (i + 1),
                        InetSocketAddress.createUnresolved("172.16." + (i / 250) + "." + (2 + i % 250), 5000)));
            }
            return new AppRoute(name, web);
        }
    }

    /** The selection RequestRouter.route inlines: a uniformly random up web dyno. */
    private static Backend select(AppRoute route) {
        List<Backend> dynos = route.webDynos();
        return dynos.get(ThreadLocalRandom.current().nextInt(dynos.size()));
    }

    @Benchmark
    public Backend selectDyno2(Dynos d) {
        return select(d.two);
    }

    @Benchmark
    public Backend selectDyno100(Dynos d) {
        return select(d.hundred);
    }

    /**
     * A route table of 10,000 apps, and 4,096 Host header values of those apps (mixed case, most with
     * a port, as clients send them) that successive invocations cycle through, so the lookup is not
     * always the same (cached, well-predicted) key.
     */
    @State(Scope.Benchmark)
    public static class Table {
        static final int APPS = 10_000;
        static final int HOSTS = 4_096;
        RouteTable table;
        String[] hostHeaders;

        @Setup
        public void setup() {
            // Built the way the plane publishes: one with() per app (setup only, not measured).
            RouteTable t = RouteTable.empty();
            List<Backend> web = List.of(new Backend("web.1", InetSocketAddress.createUnresolved("172.16.0.2", 5000)));
            for (int i = 0; i < APPS; i++) {
                t = t.with("app-" + i + ".dynoplane.local", new AppRoute("app-" + i, web));
            }
            table = t;
            SplittableRandom random = new SplittableRandom(42);
            hostHeaders = new String[HOSTS];
            for (int i = 0; i < HOSTS; i++) {
                int app = random.nextInt(APPS);
                String host = (random.nextInt(4) == 0 ? "App-" : "app-") + app + ".dynoplane.local";
                hostHeaders[i] = random.nextInt(4) == 0 ? host : host + ":8080";
            }
        }
    }

    @State(Scope.Thread)
    public static class Cursor {
        int next;
    }

    /** RouteTable.lookup on a raw Host header: normalisation (port strip, lower case) and the map get. */
    @Benchmark
    public void hostLookup10k(Table t, Cursor c, Blackhole bh) {
        String host = t.hostHeaders[c.next++ & (Table.HOSTS - 1)];
        bh.consume(t.table.lookup(host));
    }
}

package io.dynoplane.router;

import io.netty.handler.codec.http.HttpVersion;

/**
 * How a client reached the router: over TLS or not, and over HTTP/2 or HTTP/1.x. Fixed per client
 * connection (per HTTP/2 stream, the same as its connection); it decides X-Forwarded-Proto and the
 * {@code protocol=} and {@code tls=} fields of the log line.
 *
 * @param tls   the connection is TLS (the router's TLS listener)
 * @param http2 requests arrive as HTTP/2 streams, converted to HTTP/1.1 objects before routing
 */
record ClientSide(boolean tls, boolean http2) {
    static final ClientSide PLAIN_HTTP1 = new ClientSide(false, false);

    /** X-Forwarded-Proto. */
    String scheme() {
        return tls ? "https" : "http";
    }

    /** The log line's {@code protocol=}: {@code http2}, else the request's own version ({@code http1.1}). */
    String protocol(HttpVersion requestVersion) {
        if (http2) {
            return "http2";
        }
        if (requestVersion.majorVersion() == 1) {
            return requestVersion.minorVersion() == 1 ? "http1.1" : requestVersion.minorVersion() == 0 ? "http1.0"
                    : "http1." + requestVersion.minorVersion();
        }
        return "http" + requestVersion.majorVersion() + "." + requestVersion.minorVersion();
    }
}

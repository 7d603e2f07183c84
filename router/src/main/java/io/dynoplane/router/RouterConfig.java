package io.dynoplane.router;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How a {@link Router} listens.
 *
 * @param listen     address to bind; port 0 picks an ephemeral port (see {@link Router#port()})
 * @param routerName goes into {@code Via: 1.1 <routerName>}, so it must be a plain token
 * @param ioThreads  event loops; 0 lets Netty choose (twice the cores)
 * @param tls        a second, TLS listener (HTTP/1.1 and HTTP/2 by ALPN, certificate by SNI); null for none
 */
public record RouterConfig(InetSocketAddress listen, String routerName, int ioThreads, RouterTls tls) {
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9._-]+");

    public RouterConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(routerName, "routerName");
        if (!TOKEN.matcher(routerName).matches()) {
            throw new IllegalArgumentException("routerName must match " + TOKEN + ": '" + routerName + "'");
        }
        if (ioThreads < 0) {
            throw new IllegalArgumentException("ioThreads must be >= 0 (0 = Netty default): " + ioThreads);
        }
    }

    /** Plain HTTP only. */
    public RouterConfig(InetSocketAddress listen, String routerName, int ioThreads) {
        this(listen, routerName, ioThreads, null);
    }

    /** The same, with a TLS listener. */
    public RouterConfig withTls(RouterTls tls) {
        return new RouterConfig(listen, routerName, ioThreads, Objects.requireNonNull(tls, "tls"));
    }
}

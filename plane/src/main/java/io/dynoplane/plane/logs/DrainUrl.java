package io.dynoplane.plane.logs;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/** A drain's URL, checked: where it sends and how. */
record DrainUrl(Kind kind, URI uri) {
    static final String ACCEPTED = "syslog://host:port, syslog+tcp://host:port, syslog+tls://host:port or https://host[:port]/path";

    enum Kind { SYSLOG_TCP, SYSLOG_TLS, HTTPS }

    static DrainUrl parse(String url) {
        if (url == null || url.isBlank()) throw bad(url, "it is empty");
        URI uri;
        try {
            uri = new URI(url.strip());
        } catch (URISyntaxException e) {
            throw bad(url, e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        Kind kind = switch (scheme) {
            case "syslog", "syslog+tcp" -> Kind.SYSLOG_TCP;
            case "syslog+tls" -> Kind.SYSLOG_TLS;
            case "https" -> Kind.HTTPS;
            default -> throw bad(url, "the scheme \"" + scheme + "\" is not one of them");
        };
        if (uri.getHost() == null) throw bad(url, "it has no host");
        if (kind != Kind.HTTPS && uri.getPort() < 1) throw bad(url, "a syslog drain needs a port");
        return new DrainUrl(kind, uri);
    }

    String host() { return uri.getHost(); }

    int port() { return uri.getPort() > 0 ? uri.getPort() : 443; }

    private static IllegalArgumentException bad(String url, String why) {
        return new IllegalArgumentException("drain URL \"" + url + "\": " + why + "; expected " + ACCEPTED);
    }
}

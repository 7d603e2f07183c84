package io.dynoplane.plane.logs;

import javax.net.ssl.SSLContext;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;

/**
 * How drains queue, batch and retry.
 *
 * @param queueLines   lines a drain holds while its peer is slow or away; beyond that, new lines are dropped
 * @param batchLines   most lines in one HTTPS POST (and in one syslog write)
 * @param batchLinger  how long an HTTPS batch waits to fill after its first line
 * @param attempts     tries of one batch before it is dropped
 * @param backoff      wait after the first failed try, doubled after each
 * @param timeout      connect and request timeout
 * @param ssl          trust for https and syslog+tls; null for the JDK's default trust (production)
 */
public record DrainSettings(int queueLines, int batchLines, Duration batchLinger, int attempts, Duration backoff,
                            Duration timeout, SSLContext ssl) {
    public DrainSettings {
        if (queueLines < 1) throw new IllegalArgumentException("queueLines " + queueLines + ": expected at least 1");
        if (batchLines < 1) throw new IllegalArgumentException("batchLines " + batchLines + ": expected at least 1");
        if (attempts < 1) throw new IllegalArgumentException("attempts " + attempts + ": expected at least 1");
        if (ssl == null) ssl = defaultTrust();
    }

    /** 10,000 queued lines, POSTs of up to 500 lines or 1 s, 3 tries from 500 ms apart, the default trust. */
    public static DrainSettings defaults() {
        return new DrainSettings(10_000, 500, Duration.ofSeconds(1), 3, Duration.ofMillis(500), Duration.ofSeconds(10), null);
    }

    private static SSLContext defaultTrust() {
        try {
            return SSLContext.getDefault();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no default TLS context", e);
        }
    }

    public DrainSettings withSsl(SSLContext ssl) {
        return new DrainSettings(queueLines, batchLines, batchLinger, attempts, backoff, timeout, ssl);
    }
}

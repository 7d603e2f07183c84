package io.dynoplane.plane.logs;

import io.dynoplane.plane.LogLine;

import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

/**
 * {@code https://}: batches POSTed as Logplex does, {@code Content-Type: application/logplex-1}, the body
 * octet-counted syslog frames. A batch keeps its {@code Logplex-Frame-Id} across retries so the peer can
 * tell a retry from new lines.
 */
final class HttpsDrain extends LogDrain {
    static final String CONTENT_TYPE = "application/logplex-1";

    private final HttpClient client;
    private final String authorization;

    HttpsDrain(String id, String app, DrainUrl url, DrainSettings settings) {
        super(id, app, url, settings);
        this.client = HttpClient.newBuilder().sslContext(settings.ssl()).connectTimeout(settings.timeout()).build();
        String userInfo = url.uri().getRawUserInfo();
        this.authorization = userInfo == null ? null : "Basic " + Base64.getEncoder().encodeToString(
                URLDecoder.decode(userInfo, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    void run() throws InterruptedException {
        while (true) {
            List<LogLine> batch = nextBatch(settings.batchLines(), settings.batchLinger());
            if (batch.isEmpty()) {
                if (finished()) return;
                continue;
            }
            HttpRequest request = request(batch, UUID.randomUUID().toString());
            boolean delivered = false;
            for (int attempt = 1; attempt <= settings.attempts() && !delivered; attempt++) {
                if (attempt > 1) backOff(attempt - 1);
                delivered = post(request);
            }
            done(batch, delivered);
        }
    }

    private boolean post(HttpRequest request) throws InterruptedException {
        try {
            int status = client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status / 100 == 2) return true;
        } catch (IOException e) {
            // counted below, like a refusal
        }
        errors.incrementAndGet();
        return false;
    }

    private HttpRequest request(List<LogLine> batch, String frameId) {
        HttpRequest.Builder post = HttpRequest.newBuilder(withoutUserInfo())
                .timeout(settings.timeout())
                .header("Content-Type", CONTENT_TYPE)
                .header("Logplex-Msg-Count", Integer.toString(batch.size()))
                .header("Logplex-Frame-Id", frameId)
                .header("Logplex-Drain-Token", token)
                .header("User-Agent", "dynoplane-logplex")
                .POST(HttpRequest.BodyPublishers.ofByteArray(SyslogFrame.frames(batch, token)));
        if (authorization != null) post.header("Authorization", authorization);
        return post.build();
    }

    private URI withoutUserInfo() {
        URI u = url.uri();
        if (u.getRawUserInfo() == null) return u;
        return URI.create(u.getScheme() + "://" + u.getRawAuthority().substring(u.getRawAuthority().indexOf('@') + 1)
                + (u.getRawPath() == null ? "" : u.getRawPath()) + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery()));
    }

    @Override
    void release() {
        client.shutdownNow();
    }
}

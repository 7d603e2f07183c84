package io.dynoplane.router;

import java.time.Duration;

/** Timeouts and sizes. Package-private so tests can shrink them; production uses {@link #DEFAULTS}. */
record RouterLimits(Duration connectTimeout, Duration responseTimeout, Duration backendIdleTimeout,
                    Duration clientIdleTimeout, Duration drainTimeout, int maxBodyBytes,
                    int maxIdlePerBackend) {
    static final RouterLimits DEFAULTS = new RouterLimits(
            Duration.ofSeconds(5),    // H19 after this
            Duration.ofSeconds(30),   // H12 after this, as on Heroku
            Duration.ofSeconds(90),   // pooled dyno connections idle this long are closed
            Duration.ofSeconds(90),   // idle keep-alive client connections likewise
            Duration.ofSeconds(10),   // close() waits this long for in-flight requests
            10 * 1024 * 1024,         // aggregation cap, both directions
            64);
}

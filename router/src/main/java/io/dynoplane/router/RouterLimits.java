package io.dynoplane.router;

import java.time.Duration;

/**
 * Timeouts and sizes. Package-private so tests can shrink them; production uses {@link #DEFAULTS}.
 *
 * @param connectTimeout     H19 when a dyno connection takes longer
 * @param responseTimeout    H12 when the dyno sends no response head this long after the whole
 *                           request was sent to it
 * @param backendIdleTimeout pooled dyno connections idle this long are closed
 * @param clientIdleTimeout  keep-alive client connections idle between requests this long are closed
 * @param drainTimeout       {@link Router#close()} waits this long for in-flight requests (the plane may
 *                           call {@link Router#drain} with its own deadline instead)
 * @param maxIdlePerBackend  pooled connections kept per dyno
 * @param idleWindow         rolling window once bytes flow: a dyno silent this long mid-response is H15,
 *                           a client silent this long mid-upload (or not reading) is H28
 * @param headTimeout        a client must send a complete request head within this time of its first
 *                           byte (or of connecting), else it is closed (slowloris)
 * @param inFlightPerDyno    an app may have this many requests in the router at once per web dyno
 *                           (200 as on Heroku); beyond that the router answers H11
 * @param quarantine         a dyno that refused a connection or did not accept one in time is passed
 *                           over this long (unless no other dyno is left to try)
 * @param bootWait           a request for an app whose web dynos are all still booting waits this long
 *                           for one to come up (75 s as on Heroku), then gets H20
 */
record RouterLimits(Duration connectTimeout, Duration responseTimeout, Duration backendIdleTimeout,
                    Duration clientIdleTimeout, Duration drainTimeout, int maxIdlePerBackend,
                    Duration idleWindow, Duration headTimeout, int inFlightPerDyno,
                    Duration quarantine, Duration bootWait) {
    static final RouterLimits DEFAULTS = new RouterLimits(
            Duration.ofSeconds(5),
            Duration.ofSeconds(30),   // as on Heroku
            Duration.ofSeconds(90),
            Duration.ofSeconds(90),
            Duration.ofSeconds(10),
            1024,     // idle keep-alives per dyno: a pool smaller than the client side churns connections under load
            Duration.ofSeconds(55),   // as on Heroku
            Duration.ofSeconds(30),
            200,              // as on Heroku
            Duration.ofSeconds(5),
            Duration.ofSeconds(75)); // as on Heroku

    RouterLimits withResponseTimeout(Duration d) {
        return new RouterLimits(connectTimeout, d, backendIdleTimeout, clientIdleTimeout, drainTimeout,
                maxIdlePerBackend, idleWindow, headTimeout, inFlightPerDyno, quarantine, bootWait);
    }

    RouterLimits withIdleTimeouts(Duration backend, Duration client) {
        return new RouterLimits(connectTimeout, responseTimeout, backend, client, drainTimeout,
                maxIdlePerBackend, idleWindow, headTimeout, inFlightPerDyno, quarantine, bootWait);
    }

    RouterLimits withDrainTimeout(Duration d) {
        return new RouterLimits(connectTimeout, responseTimeout, backendIdleTimeout, clientIdleTimeout, d,
                maxIdlePerBackend, idleWindow, headTimeout, inFlightPerDyno, quarantine, bootWait);
    }

    RouterLimits withIdleWindow(Duration d) {
        return new RouterLimits(connectTimeout, responseTimeout, backendIdleTimeout, clientIdleTimeout,
                drainTimeout, maxIdlePerBackend, d, headTimeout, inFlightPerDyno, quarantine, bootWait);
    }

    RouterLimits withHeadTimeout(Duration d) {
        return new RouterLimits(connectTimeout, responseTimeout, backendIdleTimeout, clientIdleTimeout,
                drainTimeout, maxIdlePerBackend, idleWindow, d, inFlightPerDyno, quarantine, bootWait);
    }

    RouterLimits withInFlightPerDyno(int n) {
        return new RouterLimits(connectTimeout, responseTimeout, backendIdleTimeout, clientIdleTimeout,
                drainTimeout, maxIdlePerBackend, idleWindow, headTimeout, n, quarantine, bootWait);
    }

    RouterLimits withQuarantine(Duration d) {
        return new RouterLimits(connectTimeout, responseTimeout, backendIdleTimeout, clientIdleTimeout,
                drainTimeout, maxIdlePerBackend, idleWindow, headTimeout, inFlightPerDyno, d, bootWait);
    }

    RouterLimits withBootWait(Duration d) {
        return new RouterLimits(connectTimeout, responseTimeout, backendIdleTimeout, clientIdleTimeout,
                drainTimeout, maxIdlePerBackend, idleWindow, headTimeout, inFlightPerDyno, quarantine, d);
    }

    RouterLimits withConnectTimeout(Duration d) {
        return new RouterLimits(d, responseTimeout, backendIdleTimeout, clientIdleTimeout,
                drainTimeout, maxIdlePerBackend, idleWindow, headTimeout, inFlightPerDyno, quarantine, bootWait);
    }
}

package io.dynoplane.plane.manager;

import io.dynoplane.plane.DynoStatus;

import java.util.List;

/**
 * What the control API asks of the dyno manager. Every call returns once the change is accepted;
 * the manager converges in the background (one writer per app) and reports through the logs.
 */
public interface DynoControl extends AutoCloseable {
    /** Keep {@code desired} running: creates the app's dynos, scales, or rolls them onto a new release. */
    void apply(AppState desired);

    /** Stops every dyno of the app (SIGTERM, SIGKILL after the grace period) and unwires them; returns when they are gone. */
    void destroy(String app);

    /** Restarts the app's dynos: all ({@code target} null), a process type ({@code web}) or one dyno ({@code web.1}); resets crash back-off. */
    void restart(String app, String target);

    /** Stops a dyno ({@code web.1}) or a process type; as on Heroku, the formation starts replacements. */
    void stop(String app, String target);

    /** The dynos of {@code app}, or of every app when null, one-off dynos included. */
    List<DynoStatus> dynos(String app);

    /**
     * Starts a one-off dyno of {@code app} running {@code command} in {@code release} (null: the app's
     * current release; the daemon passes a new release to run its {@code release} phase before rolling out).
     */
    OneOff run(String app, AppState.Release release, String command, boolean attached);

    /** Stops every dyno of every app. */
    @Override
    void close();
}

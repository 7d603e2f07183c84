package io.dynoplane.router;

import java.util.List;
import java.util.Objects;

/**
 * Where an app's traffic goes.
 *
 * @param app         the app's name (used as a metrics label)
 * @param webDynos    the app's web dynos with their {@link Backend.State state}; requests go to the up
 *                    ones. None at all means H14; none up means queueing while any is starting (then
 *                    H20), else H10 if they have crashed
 * @param maintenance the app is in maintenance mode: every request gets H80 and the maintenance page
 * @param trusted     the clients its private space admits; others get 403
 */
public record AppRoute(String app, List<Backend> webDynos, boolean maintenance, TrustedSources trusted) {
    public AppRoute {
        Objects.requireNonNull(app, "app");
        webDynos = List.copyOf(webDynos);
        Objects.requireNonNull(trusted, "trusted");
    }

    /** An app open to every client. */
    public AppRoute(String app, List<Backend> webDynos, boolean maintenance) {
        this(app, webDynos, maintenance, TrustedSources.ANY);
    }

    /** An app out of maintenance mode, open to every client. */
    public AppRoute(String app, List<Backend> webDynos) {
        this(app, webDynos, false);
    }

    /** The web dynos that can take requests now. */
    public List<Backend> upDynos() {
        for (int i = 0; i < webDynos.size(); i++) { // indexed: no iterator per request
            if (webDynos.get(i).state() != Backend.State.UP) {
                return webDynos.stream().filter(d -> d.state() == Backend.State.UP).toList();
            }
        }
        return webDynos; // all up, the usual case: no copy per request (the list is immutable)
    }

    /** True if some web dyno is booting. */
    public boolean booting() {
        return webDynos.stream().anyMatch(b -> b.state() == Backend.State.STARTING);
    }
}

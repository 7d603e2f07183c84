package io.dynoplane.router;

import java.util.List;
import java.util.Objects;

/**
 * Where an app's traffic goes.
 *
 * @param app      the app's name (used as a metrics label)
 * @param webDynos only the app's web dynos that are up; empty means the router answers H14
 */
public record AppRoute(String app, List<Backend> webDynos) {
    public AppRoute {
        Objects.requireNonNull(app, "app");
        webDynos = List.copyOf(webDynos);
    }
}

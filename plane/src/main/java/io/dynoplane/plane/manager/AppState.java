package io.dynoplane.plane.manager;

import io.dynoplane.plane.Procfile;

import java.nio.file.Path;
import java.util.Map;

/**
 * What the manager keeps running for one app: its whole input for it. The daemon builds one from the
 * store and hands it over on every change (deploy, config change, scale); the manager converges.
 *
 * @param spaceId   the app's private space (0: the Common Runtime)
 * @param internal  an internal app takes traffic only from its own space
 * @param release   the release to run, or null while nothing is deployed
 * @param formation process type to quantity ({@code web=2, worker=1}); types missing are 0
 */
public record AppState(String app, int spaceId, boolean internal, Release release, Map<String, Integer> formation) {
    public AppState {
        formation = Map.copyOf(formation);
    }

    /**
     * One release: the app's code (with its Procfile) and the config vars at that moment. A new
     * version (deploy, config change) rolls every dyno onto it.
     */
    public record Release(int version, Path dir, Map<String, String> config, Procfile procfile) {
        public Release {
            config = Map.copyOf(config);
        }
    }
}

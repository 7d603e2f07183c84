package io.dynoplane.plane.store;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The desired state of the plane: apps, releases, formation, config vars, drains, spaces. Every
 * write is durable when it returns. One interface so that an etcd-backed store can replace the
 * file one. Errors are {@link StoreException}s naming the input (unknown app, duplicate name, ...).
 */
public interface Store extends AutoCloseable {
    List<App> apps();

    /** The app, or a NOT_FOUND error naming it. */
    App app(String name);

    /** A new app in the Common Runtime ({@code space} null) or in a space that exists. */
    App createApp(String name, String space, boolean internal);

    /** Forgets the app, its releases and its slugs. */
    App destroyApp(String name);

    /** Oldest first. */
    List<Release> releases(String app);

    Release release(String app, int version);

    /** The latest succeeded release, if any. */
    Optional<Release> currentRelease(String app);

    /**
     * A new pending release of a copy of {@code dir} (which needs a Procfile) with the current
     * config; process types new to the formation get web=1, others 0, as on a first Heroku deploy.
     */
    Release deploy(String app, Path dir);

    /** Sets ({@code null} value: unsets) config vars; makes a new pending release with the current slug, as Heroku does. */
    Release setConfig(String app, Map<String, String> changes);

    /** Marks a pending release succeeded (it becomes current) or failed. */
    Release markRelease(String app, int version, Release.Status status);

    Map<String, String> config(String app);

    /** Process type to quantity. */
    Map<String, Integer> formation(String app);

    /** Applies {@code updates} (type to quantity ≥ 0, types of the current Procfile only) and returns the formation. */
    Map<String, Integer> scale(String app, Map<String, Integer> updates);

    List<Drain> drains(String app);

    Drain addDrain(String app, String url);

    Drain removeDrain(String app, String id);

    List<Space> spaces();

    Space space(String name);

    /** A new space with the next free id (ids start at 1 and are never reused). */
    Space createSpace(String name);

    Space addTrustedCidr(String space, String cidr);

    @Override
    void close();
}

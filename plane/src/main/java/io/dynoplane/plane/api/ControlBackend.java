package io.dynoplane.plane.api;

import io.dynoplane.plane.DynoStatus;
import io.dynoplane.plane.manager.OneOff;
import io.dynoplane.plane.store.App;
import io.dynoplane.plane.store.Drain;
import io.dynoplane.plane.store.Release;
import io.dynoplane.plane.store.Space;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What {@link ControlApi} serves: one method per resource. Implementations throw
 * {@link ApiException} for errors; a {@link io.dynoplane.plane.store.StoreException} is mapped by
 * its kind (404, 409, 422) and an {@link IllegalArgumentException} to 422, so store errors can
 * pass straight through. Anything else is a 500.
 */
public interface ControlBackend {
    List<App> apps();

    App app(String app);

    App createApp(String name, String space, boolean internal);

    /** Stops the app's dynos and forgets it. */
    App destroyApp(String app);

    List<Release> releases(String app);

    /** Deploys the folder {@code dir} (absolute, with a Procfile) as a new release. */
    Release deploy(String app, Path dir);

    List<FormationEntry> formation(String app);

    /** Type to quantity; returns the whole formation afterwards. */
    List<FormationEntry> scale(String app, Map<String, Integer> updates);

    /** The dynos of {@code app}, or of every app when null. */
    List<DynoStatus> dynos(String app);

    /** {@code target}: null (every dyno), a process type ({@code web}) or a dyno ({@code web.1}). */
    void restart(String app, String target);

    /** {@code target}: a process type or a dyno. */
    void stop(String app, String target);

    /** Starts a one-off dyno; attached, its streams are piped to the caller through {@link AttachFrames}. */
    OneOff run(String app, String command, boolean attach);

    Map<String, String> config(String app);

    /** Sets vars ({@code null} value: unsets), making a new release; returns the config afterwards. */
    Map<String, String> updateConfig(String app, Map<String, String> changes);

    List<Drain> drains(String app);

    Drain addDrain(String app, String url);

    /** {@code id}: the drain's id or its URL. */
    Drain removeDrain(String app, String id);

    /**
     * Sends the lines {@code query} asks for (formatted as Heroku's, without newline) to {@code sink},
     * first the recent ones, before returning; with {@code query.tail()}, keeps sending new ones from
     * any thread until the subscription is closed. The sink never throws.
     */
    LogSubscription logs(String app, LogQuery query, Consumer<String> sink);

    List<Space> spaces();

    Space createSpace(String name);

    Space addTrustedIps(String space, List<String> cidrs);

    /** Stops the daemon (after the answer is sent): {@code ./dynoplane down}. */
    void shutdown();
}

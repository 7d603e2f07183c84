package io.dynoplane.plane.api;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The control API's resources, modelled on Heroku's Platform API, each mapped onto the backend. */
final class Routes {
    private Routes() {}

    static List<Route> all(ControlBackend backend) {
        return List.of(
                Route.of("GET", "/apps", ex -> Reply.ok(backend.apps())),
                Route.of("POST", "/apps", ex -> {
                    JsonBody body = JsonBody.parse(ex.request().body(), Set.of("name", "space", "internal"));
                    return Reply.created(backend.createApp(body.requiredString("name"), body.optionalString("space"), body.optionalBoolean("internal")));
                }),
                Route.of("GET", "/apps/{app}", ex -> Reply.ok(backend.app(ex.param("app")))),
                Route.of("DELETE", "/apps/{app}", ex -> Reply.ok(backend.destroyApp(ex.param("app")))),

                Route.of("GET", "/apps/{app}/releases", ex -> Reply.ok(backend.releases(ex.param("app")))),
                Route.of("POST", "/apps/{app}/releases", ex -> {
                    String dir = JsonBody.parse(ex.request().body(), Set.of("dir")).requiredString("dir");
                    if (!dir.startsWith("/")) throw ApiException.invalid("field 'dir' must be an absolute path, got '" + dir + "'");
                    return Reply.created(backend.deploy(ex.param("app"), Path.of(dir)));
                }),

                Route.of("GET", "/apps/{app}/formation", ex -> Reply.ok(backend.formation(ex.param("app")))),
                Route.of("PATCH", "/apps/{app}/formation", ex -> Reply.ok(backend.scale(ex.param("app"), formationUpdates(ex)))),

                Route.of("GET", "/dynos", ex -> Reply.ok(backend.dynos(null))),
                Route.of("GET", "/apps/{app}/dynos", ex -> Reply.ok(backend.dynos(ex.param("app")))),
                Route.of("POST", "/apps/{app}/dynos", ex -> OneOffRoute.start(backend, ex)),
                Route.of("DELETE", "/apps/{app}/dynos", ex -> restart(backend, ex.param("app"), null)),
                Route.of("DELETE", "/apps/{app}/dynos/{target}", ex -> restart(backend, ex.param("app"), ex.param("target"))),
                Route.of("POST", "/apps/{app}/dynos/{target}/actions/stop", ex -> stop(backend, ex.param("app"), ex.param("target"))),
                Route.of("POST", "/apps/{app}/actions/stop/{target}", ex -> stop(backend, ex.param("app"), ex.param("target"))),

                Route.of("GET", "/apps/{app}/config-vars", ex -> Reply.ok(backend.config(ex.param("app")))),
                Route.of("PATCH", "/apps/{app}/config-vars", ex -> {
                    Map<String, String> changes = JsonBody.stringMap(JsonBody.parse(ex.request().body(), anyField()).object());
                    if (changes.isEmpty()) throw ApiException.invalid("no config vars in the body (expected {\"KEY\": \"value\" or null, ...})");
                    return Reply.ok(backend.updateConfig(ex.param("app"), changes));
                }),

                Route.of("GET", "/apps/{app}/log-drains", ex -> Reply.ok(backend.drains(ex.param("app")))),
                Route.of("POST", "/apps/{app}/log-drains", ex -> Reply.created(backend.addDrain(ex.param("app"),
                        JsonBody.parse(ex.request().body(), Set.of("url")).requiredString("url")))),
                Route.of("DELETE", "/apps/{app}/log-drains/{id}", ex -> Reply.ok(backend.removeDrain(ex.param("app"), ex.param("id")))),

                Route.of("GET", "/apps/{app}/log-sessions", ex -> LogRoute.stream(backend, ex)),

                Route.of("GET", "/spaces", ex -> Reply.ok(backend.spaces())),
                Route.of("POST", "/spaces", ex -> Reply.created(backend.createSpace(JsonBody.parse(ex.request().body(), Set.of("name")).requiredString("name")))),
                Route.of("POST", "/spaces/{space}/trusted-ips", ex -> Reply.ok(backend.addTrustedIps(ex.param("space"), cidrs(ex)))),
                Route.of("POST", "/spaces/{space}/inbound-ruleset", ex -> Reply.ok(backend.addTrustedIps(ex.param("space"), cidrs(ex)))),

                Route.of("POST", "/actions/shutdown", ex -> {
                    // Answer first: the daemon stopping may take the socket with it.
                    HttpResponses.json(ex.out(), 202, Map.of("message", "shutting down"));
                    backend.shutdown();
                    return Reply.STREAMED;
                }));
    }

    /** Accepts any field name: config var names are the fields. */
    private static Set<String> anyField() {
        return new java.util.AbstractSet<>() {
            @Override public boolean contains(Object o) { return true; }
            @Override public java.util.Iterator<String> iterator() { return java.util.Collections.emptyIterator(); }
            @Override public int size() { return 0; }
        };
    }

    private static Reply restart(ControlBackend backend, String app, String target) {
        backend.restart(app, target);
        return Reply.accepted(action(app, target, "restart"));
    }

    private static Reply stop(ControlBackend backend, String app, String target) {
        backend.stop(app, target);
        return Reply.accepted(action(app, target, "stop"));
    }

    private static Map<String, String> action(String app, String target, String action) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("app", app);
        out.put("target", target);
        out.put("action", action);
        return out;
    }

    /** {@code {"updates":[{"type":"web","quantity":2}]}}, Heroku's batch formation update. */
    private static Map<String, Integer> formationUpdates(Exchange ex) {
        JsonNode updates = JsonBody.parse(ex.request().body(), Set.of("updates")).required("updates");
        if (!updates.isArray() || updates.isEmpty()) throw ApiException.invalid("field 'updates' must be a non-empty array of {\"type\", \"quantity\"}");
        Map<String, Integer> out = new LinkedHashMap<>();
        for (JsonNode u : updates) {
            JsonNode type = u.get("type"), quantity = u.get("quantity");
            if (type == null || !type.isTextual()) throw ApiException.invalid("each update needs a string 'type', got " + u);
            if (quantity == null || !quantity.canConvertToInt() || !quantity.isIntegralNumber()) throw ApiException.invalid("update of '" + type.asText() + "' needs an integer 'quantity', got " + u);
            out.put(type.asText(), quantity.asInt());
        }
        return out;
    }

    /** {@code {"cidrs":["10.0.0.0/8"]}} or Heroku's {@code {"rules":[{"source":"10.0.0.0/8","action":"allow"}]}}. */
    private static List<String> cidrs(Exchange ex) {
        JsonBody body = JsonBody.parse(ex.request().body(), Set.of("cidrs", "rules"));
        JsonNode cidrs = body.object().get("cidrs"), rules = body.object().get("rules");
        List<String> out = new java.util.ArrayList<>();
        if (cidrs != null && cidrs.isArray()) cidrs.forEach(c -> out.add(c.asText()));
        if (rules != null && rules.isArray()) rules.forEach(r -> { if (r.hasNonNull("source")) out.add(r.get("source").asText()); });
        if (out.isEmpty()) throw ApiException.invalid("no CIDRs in the body (expected {\"cidrs\": [\"10.0.0.0/8\"]})");
        return out;
    }
}

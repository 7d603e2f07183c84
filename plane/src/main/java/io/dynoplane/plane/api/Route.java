package io.dynoplane.plane.api;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** One method and path pattern ({@code /apps/{app}/dynos}) and what answers it. */
record Route(String method, List<String> pattern, Handler handler) {
    @FunctionalInterface
    interface Handler {
        Reply handle(Exchange exchange) throws IOException;
    }

    static Route of(String method, String pattern, Handler handler) {
        return new Route(method, List.of(pattern.substring(1).split("/")), handler);
    }

    /** The named parts of {@code path} if it fits the pattern, else null. */
    Map<String, String> match(List<String> path) {
        if (path.size() != pattern.size()) return null;
        Map<String, String> params = new HashMap<>();
        for (int i = 0; i < path.size(); i++) {
            String p = pattern.get(i);
            if (p.startsWith("{")) params.put(p.substring(1, p.length() - 1), path.get(i));
            else if (!p.equals(path.get(i))) return null;
        }
        return params;
    }
}

package io.dynoplane.plane.api;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;

/** One request being served: the request, the path's named parts, and the connection for streaming answers. */
record Exchange(HttpRequest request, Map<String, String> params, InputStream in, OutputStream out) {
    String param(String name) { return params.get(name); }

    String query(String name) { return request.query().get(name); }
}

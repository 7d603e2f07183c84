package io.dynoplane.plane.api;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Writes control API answers: every answer closes its connection (one request per connection). */
final class HttpResponses {
    private HttpResponses() {}

    static void json(OutputStream out, int status, Object body) throws IOException {
        byte[] bytes = JsonBody.JSON.writeValueAsBytes(body);
        head(out, status, Map.of("Content-Type", "application/json", "Content-Length", Integer.toString(bytes.length)));
        out.write(bytes);
        out.flush();
    }

    static void error(OutputStream out, ApiException e) throws IOException {
        json(out, e.status(), new ApiException.Body(e.id(), e.getMessage()));
    }

    static void head(OutputStream out, int status, Map<String, String> headers) throws IOException {
        StringBuilder head = new StringBuilder("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
        headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        if (!headers.containsKey("Connection")) head.append("Connection: close\r\n");
        head.append("\r\n");
        out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
    }

    private static String reason(int status) {
        return switch (status) {
            case 101 -> "Switching Protocols";
            case 200 -> "OK";
            case 201 -> "Created";
            case 202 -> "Accepted";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 409 -> "Conflict";
            case 422 -> "Unprocessable Entity";
            default -> status >= 500 ? "Internal Server Error" : "Status";
        };
    }
}

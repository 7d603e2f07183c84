package io.dynoplane.plane.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** One HTTP/1.x request as the control API reads it: head, then a Content-Length body. */
record HttpRequest(String method, List<String> path, Map<String, String> query, Map<String, String> headers, byte[] body) {
    private static final int MAX_HEAD = 16 * 1024;
    private static final int MAX_BODY = 1 << 20;

    String rawPath() { return "/" + String.join("/", path); }

    /** Reads one request; null when the client closed before sending anything. */
    static HttpRequest read(InputStream in) throws IOException {
        String head = readHead(in);
        if (head == null) return null;
        String[] lines = head.split("\r\n");
        String[] requestLine = lines[0].split(" ");
        if (requestLine.length != 3 || !requestLine[2].startsWith("HTTP/1.")) throw ApiException.badRequest("bad request line '" + lines[0] + "'");
        Map<String, String> headers = new HashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon <= 0) throw ApiException.badRequest("bad header line '" + lines[i] + "'");
            headers.put(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
        }
        if (headers.containsKey("transfer-encoding")) throw ApiException.badRequest("chunked request bodies are not supported; send Content-Length");
        byte[] body = readBody(in, headers.get("content-length"));
        try {
            return parseTarget(requestLine[0], requestLine[1], headers, body);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("bad request target '" + requestLine[1] + "': " + e.getMessage());
        }
    }

    private static HttpRequest parseTarget(String method, String target, Map<String, String> headers, byte[] body) {
        int q = target.indexOf('?');
        String rawPath = q < 0 ? target : target.substring(0, q);
        List<String> path = new ArrayList<>();
        for (String segment : rawPath.split("/")) if (!segment.isEmpty()) path.add(URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8));
        Map<String, String> query = new HashMap<>();
        if (q >= 0) {
            for (String pair : target.substring(q + 1).split("&")) {
                if (pair.isEmpty()) continue;
                int eq = pair.indexOf('=');
                String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                query.put(key, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return new HttpRequest(method, List.copyOf(path), Map.copyOf(query), Map.copyOf(headers), body);
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0; // of "\r\n\r\n"
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                if (head.size() == 0) return null;
                throw ApiException.badRequest("the request head ended early");
            }
            head.write(b);
            if (head.size() > MAX_HEAD) throw ApiException.badRequest("the request head is over " + MAX_HEAD + " bytes");
            matched = (b == '\r' && matched % 2 == 0) || (b == '\n' && matched % 2 == 1) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        return text.substring(0, text.length() - 4);
    }

    private static byte[] readBody(InputStream in, String contentLength) throws IOException {
        if (contentLength == null) return new byte[0];
        int length;
        try {
            length = Integer.parseInt(contentLength);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("bad Content-Length '" + contentLength + "'");
        }
        if (length < 0 || length > MAX_BODY) throw ApiException.badRequest("Content-Length " + length + " is out of range (0-" + MAX_BODY + ")");
        byte[] body = in.readNBytes(length);
        if (body.length != length) throw ApiException.badRequest("the body ended after " + body.length + " of " + length + " bytes");
        return body;
    }
}

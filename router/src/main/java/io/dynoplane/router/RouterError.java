package io.dynoplane.router;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;

/** Responses the router makes itself, with Heroku's error codes where Heroku has one. */
enum RouterError {
    NO_SUCH_APP(404, null, "No such app", "No such app",
            "There is no app configured at that hostname."),
    /** Malformed or ambiguously framed request (see StrictRequestDecoder); the connection closes. */
    BAD_REQUEST(400, "H26", "Request Error", "Bad request",
            "The router could not parse this request."),
    /** An Expect header other than 100-continue; the connection closes. */
    EXPECTATION_FAILED(417, "H26", "Request Error", "Expectation failed",
            "The router only supports Expect: 100-continue."),
    /** The app's private space does not trust the client's address. */
    UNTRUSTED_SOURCE(403, null, "Forbidden", "Forbidden",
            "This app does not accept requests from your address."),
    /** The router itself failed while handling the request (a bug, or resources exhausted). */
    H99(503, "H99", "Platform error", null, null),
    /** Every web dyno of the app has crashed. */
    H10(503, "H10", "App crashed", null, null),
    /** The app already has its in-flight cap of requests in the router (200 per web dyno). */
    H11(503, "H11", "Backlog too deep", null, null),
    H12(503, "H12", "Request timeout", null, null),
    H13(503, "H13", "Connection closed without response", null, null),
    H14(503, "H14", "No web dynos running", null, null),
    /** The dyno went quiet for the rolling idle window in the middle of a transfer. */
    H15(503, "H15", "Idle connection", null, null),
    H18(503, "H18", "Server Request Interrupted", null, null),
    H19(503, "H19", "Backend connection timeout", null, null),
    /** No web dyno came up within the boot wait while the request queued. */
    H20(503, "H20", "App boot timeout", null, null),
    H21(503, "H21", "Backend connection refused", null, null),
    /** The app is in maintenance mode. */
    H80(503, "H80", "Maintenance mode", "Offline for Maintenance",
            "This app is undergoing maintenance right now. Please check back later."),
    /** The client left first; logged and counted, never written. */
    H27(499, "H27", "Client Request Interrupted", null, null),
    /** The client went quiet (sending or reading) for the rolling idle window; logged, never written. */
    H28(499, "H28", "Client Connection Idle", null, null);

    private final HttpResponseStatus status;
    private final String code;
    private final String description;
    private final byte[] page;

    RouterError(int status, String code, String description, String title, String text) {
        this.status = HttpResponseStatus.valueOf(status);
        this.code = code;
        this.description = description;
        // Coded errors get Heroku's generic page; the code is shown so a person can look it up.
        String heading = title != null ? title : "Application error";
        String body = text != null ? text : description + " (" + code + ")";
        this.page = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + heading + "</title></head>"
                + "<body><h1>" + heading + "</h1><p>" + body + "</p></body></html>\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    HttpResponseStatus status() {
        return status;
    }

    /** Heroku's code (H14…), or null for plain HTTP errors such as 404. */
    String code() {
        return code;
    }

    String description() {
        return description;
    }

    /** False for the client-side codes (499): there is nobody to tell, the connection just closes. */
    boolean answersClient() {
        return status.code() != 499;
    }

    /** A fresh response; the caller owns it (and its pooled buffer). */
    FullHttpResponse newResponse(ByteBufAllocator alloc) {
        ByteBuf content = alloc.buffer(page.length).writeBytes(page);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/html; charset=utf-8")
                .set(HttpHeaderNames.CACHE_CONTROL, "no-cache, no-store")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, page.length);
        return response;
    }
}

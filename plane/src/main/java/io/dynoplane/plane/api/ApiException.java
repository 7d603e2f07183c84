package io.dynoplane.plane.api;

/**
 * An error the control API answers with: HTTP status, Heroku-style id ({@code not_found},
 * {@code conflict}, {@code invalid_params}, {@code bad_request}, {@code internal}) and a message
 * naming the input.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String id;

    public ApiException(int status, String id, String message) {
        super(message);
        this.status = status;
        this.id = id;
    }

    public int status() { return status; }

    public String id() { return id; }

    public static ApiException badRequest(String message) { return new ApiException(400, "bad_request", message); }
    public static ApiException notFound(String message) { return new ApiException(404, "not_found", message); }
    public static ApiException conflict(String message) { return new ApiException(409, "conflict", message); }
    public static ApiException invalid(String message) { return new ApiException(422, "invalid_params", message); }

    /** The error as it travels: {@code {"id":"...","message":"..."}}. */
    public record Body(String id, String message) {}
}

package io.dynoplane.plane.store;

/** A store request that cannot be done; {@link #kind()} says why, so the API can pick a status. */
public final class StoreException extends IllegalArgumentException {
    public enum Kind { NOT_FOUND, CONFLICT, INVALID }

    private final Kind kind;

    public StoreException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() { return kind; }

    static StoreException notFound(String message) { return new StoreException(Kind.NOT_FOUND, message); }
    static StoreException conflict(String message) { return new StoreException(Kind.CONFLICT, message); }
    static StoreException invalid(String message) { return new StoreException(Kind.INVALID, message); }
}

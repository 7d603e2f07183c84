package io.dynoplane.plane.api;

/** What a route answers: a status and a body to send as JSON, or {@link #STREAMED} when the route wrote its own answer. */
record Reply(int status, Object body) {
    static final Reply STREAMED = new Reply(0, null);

    static Reply ok(Object body) { return new Reply(200, body); }

    static Reply created(Object body) { return new Reply(201, body); }

    static Reply accepted(Object body) { return new Reply(202, body); }
}

package io.dynoplane.router;

/**
 * Everything known about one request, filled in as it moves through the router and turned into the
 * log line and metrics at the end. Confined to the client channel's event loop, hence plain fields.
 */
final class RequestRecord {
    final String method;
    final String path;
    final String protocol;
    final long arrivalNanos;
    boolean tls;          // came in over the TLS listener
    String host = "";
    String requestId = "";
    String fwd = "";
    String app;           // null until routed
    String dyno;          // null until a dyno is picked
    long connectNanos = -1;
    long serviceNanos = -1;
    int status;
    long bytes;
    RouterError error;    // null when the dyno answered
    long finishedNanos = -1;
    String inFlightApp;   // non-null while counted against its app's in-flight cap

    RequestRecord(String method, String path, String protocol, long arrivalNanos) {
        this.method = method;
        this.path = path;
        this.protocol = protocol;
        this.arrivalNanos = arrivalNanos;
    }

    long totalNanos() {
        return finishedNanos < 0 ? -1 : finishedNanos - arrivalNanos;
    }

    /** Heroku router log format. */
    String logLine() {
        StringBuilder b = new StringBuilder(256);
        if (error != null && error.code() != null) {
            b.append("at=error code=").append(error.code())
                    .append(" desc=\"").append(error.description()).append("\" ");
        } else {
            b.append("at=info ");
        }
        b.append("method=").append(method);
        b.append(" path=\"");
        appendEscaped(b, path);
        b.append("\" host=").append(host);
        b.append(" request_id=").append(requestId);
        b.append(" fwd=\"");
        appendEscaped(b, fwd);
        b.append("\" dyno=").append(dyno == null ? "" : dyno);
        b.append(" connect=");
        appendMillis(b, connectNanos);
        b.append(" service=");
        appendMillis(b, serviceNanos);
        b.append(" status=").append(status);
        b.append(" bytes=").append(bytes);
        b.append(" protocol=").append(protocol);
        b.append(" tls=").append(tls);
        return b.toString();
    }

    private static void appendMillis(StringBuilder b, long nanos) {
        if (nanos >= 0) {
            b.append(nanos / 1_000_000).append("ms");
        }
    }

    // Quoted fields come from the client; keep them from breaking the key=value structure or the line
    // (a refused request's path may hold control characters).
    private static void appendEscaped(StringBuilder b, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\');
            } else if (c < 0x20 || c == 0x7f) {
                b.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
                continue;
            }
            b.append(c);
        }
    }
}

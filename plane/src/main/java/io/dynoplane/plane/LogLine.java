package io.dynoplane.plane;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/** Heroku's log line: {@code 2026-11-26T10:00:00.123456+00:00 app[web.1]: message}. */
public record LogLine(Instant at, String source, String process, String message) {
    private static final DateTimeFormatter RFC3339_MICROS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSxxx").withZone(ZoneOffset.UTC);

    public static LogLine app(String process, String message) { return new LogLine(now(), "app", process, message); }
    public static LogLine heroku(String process, String message) { return new LogLine(now(), "heroku", process, message); }

    private static Instant now() { return Instant.now().truncatedTo(ChronoUnit.MICROS); }

    @Override public String toString() { return RFC3339_MICROS.format(at) + " " + source + "[" + process + "]: " + message; }
}

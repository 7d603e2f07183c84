package io.dynoplane.plane.api;

/**
 * Which log lines a log session wants: the last {@code lines} (Heroku keeps 1,500), then, with
 * {@code tail}, new ones as they come. {@code dyno} ({@code web.1}, or a type: {@code web}) and
 * {@code source} ({@code app}, {@code heroku}) filter when not null.
 */
public record LogQuery(boolean tail, String dyno, String source, int lines) {
    public static final int DEFAULT_LINES = 100;
    public static final int MAX_LINES = 1500;
}

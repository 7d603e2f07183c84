package io.dynoplane.plane.logs;

import io.dynoplane.plane.LogLine;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which lines {@code logs --dyno D --source S} shows. A dyno with a number ({@code web.1}) matches that
 * process only; a bare type ({@code web}) matches every {@code web.N} too.
 */
public record LogFilter(Optional<String> dyno, Optional<String> source) {
    private static final Pattern DYNO = Pattern.compile("[A-Za-z0-9_-]+(\\.[0-9]+)?");

    public static final LogFilter ALL = new LogFilter(Optional.empty(), Optional.empty());

    public LogFilter {
        dyno.ifPresent(d -> {
            if (!DYNO.matcher(d).matches()) {
                throw new IllegalArgumentException("dyno \"" + d + "\": expected a process type (web) or a dyno (web.1)");
            }
        });
        source.ifPresent(s -> {
            if (!s.equals("app") && !s.equals("heroku")) {
                throw new IllegalArgumentException("source \"" + s + "\": expected app or heroku");
            }
        });
    }

    /** From the CLI's options; null or blank means "any". */
    public static LogFilter of(String dyno, String source) {
        return new LogFilter(blankToEmpty(dyno), blankToEmpty(source));
    }

    public boolean matches(LogLine line) {
        if (source.isPresent() && !source.get().equals(line.source())) return false;
        if (dyno.isEmpty()) return true;
        String d = dyno.get();
        return line.process().equals(d) || (d.indexOf('.') < 0 && line.process().startsWith(d + "."));
    }

    private static Optional<String> blankToEmpty(String s) {
        return s == null || s.isBlank() ? Optional.empty() : Optional.of(s);
    }
}

package io.dynoplane.plane;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** An app's Procfile: {@code type: command} per line, in file order. */
public record Procfile(Map<String, String> commands) {
    private static final Pattern LINE = Pattern.compile("^([A-Za-z0-9_-]+):\\s*(.+)$");

    public Procfile {
        commands = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(commands));
    }

    public static Procfile read(Path releaseDir) {
        Path file = releaseDir.resolve("Procfile");
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return parse(file.toString(), lines);
    }

    /** Parses Procfile lines; a malformed line is an error naming the file and line. */
    public static Procfile parse(String source, List<String> lines) {
        Map<String, String> commands = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            Matcher m = LINE.matcher(line);
            if (!m.matches()) throw new IllegalArgumentException(source + ":" + (i + 1) + ": expected 'type: command', got '" + line + "'");
            String type = m.group(1).toLowerCase(java.util.Locale.ROOT);
            if (commands.putIfAbsent(type, m.group(2).strip()) != null) throw new IllegalArgumentException(source + ":" + (i + 1) + ": process type '" + type + "' defined twice");
        }
        return new Procfile(commands);
    }

    public String command(String type) {
        String command = commands.get(type);
        if (command == null) throw new IllegalArgumentException("the Procfile has no '" + type + "' process type (has: " + commands.keySet() + ")");
        return command;
    }
}

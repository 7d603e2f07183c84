package io.dynoplane.plane.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A command's arguments once parsed against its {@link CommandDef}: positionals, options by long
 * name ({@code app}, {@code json}; a flag without value maps to "true") and, after {@code --},
 * the rest verbatim (a one-off's command).
 */
public record Args(List<String> positionals, Map<String, String> options, List<String> rest) {
    /** Short options any command may use for its long one. */
    private static final Map<String, String> SHORT = Map.of("-a", "app", "-n", "num", "-t", "tail", "-h", "help");

    public String option(String name) { return options.get(name); }

    public boolean flag(String name) { return options.containsKey(name); }

    /** {@code -a APP}, which most commands need. */
    public String app(CommandDef def) {
        String app = options.get("app");
        if (app == null) throw new UsageException(def.name() + ": missing -a APP (which app?)");
        return app;
    }

    static Args parse(CommandDef def, List<String> tokens) {
        List<String> positionals = new ArrayList<>();
        Map<String, String> options = new HashMap<>();
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            String token = tokens.get(i);
            if (token.equals("--")) {
                rest.addAll(tokens.subList(i + 1, tokens.size()));
                break;
            }
            if (!token.startsWith("-") || token.equals("-")) {
                positionals.add(token);
                continue;
            }
            String name, value = null;
            int eq = token.indexOf('=');
            if (token.startsWith("--")) {
                name = eq < 0 ? token.substring(2) : token.substring(2, eq);
                if (eq >= 0) value = token.substring(eq + 1);
            } else {
                name = SHORT.get(token);
                if (name == null) throw unknown(def, token);
            }
            if (name.equals("help")) {
                options.put("help", "true");
                continue;
            }
            if (def.valueOptions().contains(name)) {
                if (value == null) {
                    if (i + 1 >= tokens.size()) throw new UsageException(def.name() + ": option '" + token + "' needs a value");
                    value = tokens.get(++i);
                }
                options.put(name, value);
            } else if (def.flags().contains(name)) {
                if (value != null) throw new UsageException(def.name() + ": option '--" + name + "' takes no value, got '" + token + "'");
                options.put(name, "true");
            } else {
                throw unknown(def, token);
            }
        }
        if (options.containsKey("help")) return new Args(positionals, options, rest);
        if (!rest.isEmpty() && !def.takesRest()) throw new UsageException(def.name() + ": unexpected arguments after '--': " + String.join(" ", rest));
        if (positionals.size() < def.minPositionals()) throw new UsageException(def.name() + ": missing " + def.args() + "; usage: " + def.usage());
        if (positionals.size() > def.maxPositionals()) {
            throw new UsageException(def.name() + ": unexpected argument '" + positionals.get(def.maxPositionals()) + "'; usage: " + def.usage());
        }
        return new Args(List.copyOf(positionals), Map.copyOf(options), List.copyOf(rest));
    }

    private static UsageException unknown(CommandDef def, String token) {
        return new UsageException(def.name() + ": unknown option '" + token + "'; see ./dynoplane " + def.name() + " --help");
    }
}

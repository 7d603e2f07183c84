package io.dynoplane.plane.cli;

import java.util.Set;

/**
 * One CLI command: its name, arguments and options as shown in help, how many positionals it
 * takes, and what it does.
 *
 * @param args         positionals as shown in help ({@code NAME}, {@code TYPE=N...}); empty for none
 * @param valueOptions long names of options that take a value ({@code app}, {@code space})
 * @param flags        long names of options without a value ({@code json}, {@code tail})
 * @param takesRest    whether arguments after {@code --} are allowed (a one-off's command)
 */
public record CommandDef(String name, String args, String optionsHelp, String summary, int minPositionals, int maxPositionals,
                         Set<String> valueOptions, Set<String> flags, boolean takesRest, Action action) {
    /** What the command does; returns the exit status. */
    @FunctionalInterface
    public interface Action {
        int run(CommandDef def, Args args, Cli.Context context) throws Exception;
    }

    public String usage() {
        return ("./dynoplane " + name + " " + args + " " + optionsHelp).replaceAll(" +", " ").strip();
    }
}

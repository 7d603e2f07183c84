package io.dynoplane.plane.cli;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ArgsTest {
    private static final CommandDef SCALE = new CommandDef("ps:scale", "TYPE=N...", "-a APP", "scale", 1, Integer.MAX_VALUE,
            Set.of("app"), Set.of("json"), false, (d, a, c) -> 0);
    private static final CommandDef RUN = new CommandDef("run", "-- COMMAND...", "-a APP", "run", 0, Integer.MAX_VALUE,
            Set.of("app"), Set.of(), true, (d, a, c) -> 0);
    private static final CommandDef CREATE = new CommandDef("apps:create", "NAME", "", "create", 1, 1,
            Set.of("space"), Set.of("internal"), false, (d, a, c) -> 0);

    @Test
    void optionsInEveryShapeAndPositionalsInOrder() {
        Args args = Args.parse(SCALE, List.of("web=2", "-a", "shop", "worker=1", "--json"));
        assertThat(args.positionals()).containsExactly("web=2", "worker=1");
        assertThat(args.options()).isEqualTo(Map.of("app", "shop", "json", "true"));
        assertThat(Args.parse(SCALE, List.of("--app=shop", "web=1")).app(SCALE)).isEqualTo("shop");
        assertThat(Args.parse(SCALE, List.of("--app", "shop", "web=1")).app(SCALE)).isEqualTo("shop");
        Args create = Args.parse(CREATE, List.of("api", "--space", "eu", "--internal"));
        assertThat(create.option("space")).isEqualTo("eu");
        assertThat(create.flag("internal")).isTrue();
    }

    @Test
    void everythingAfterDoubleDashIsTheCommandVerbatim() {
        Args args = Args.parse(RUN, List.of("-a", "shop", "--", "ls", "-la", "--json", "-a"));
        assertThat(args.rest()).containsExactly("ls", "-la", "--json", "-a");
        assertThat(args.app(RUN)).isEqualTo("shop");
    }

    @Test
    void mistakesAreUsageErrorsNamingTheInput() {
        assertThatThrownBy(() -> Args.parse(SCALE, List.of("web=1", "--bogus"))).isInstanceOf(UsageException.class).hasMessageContaining("'--bogus'");
        assertThatThrownBy(() -> Args.parse(SCALE, List.of("web=1", "-x"))).hasMessageContaining("'-x'");
        assertThatThrownBy(() -> Args.parse(SCALE, List.of("web=1", "-a"))).hasMessageContaining("'-a' needs a value");
        assertThatThrownBy(() -> Args.parse(SCALE, List.of("-a", "shop"))).hasMessageContaining("missing TYPE=N...");
        assertThatThrownBy(() -> Args.parse(CREATE, List.of("one", "two"))).hasMessageContaining("'two'");
        assertThatThrownBy(() -> Args.parse(CREATE, List.of("one", "--internal=yes"))).hasMessageContaining("'--internal=yes'");
        assertThatThrownBy(() -> Args.parse(CREATE, List.of("one", "--", "x"))).hasMessageContaining("after '--'");
        assertThatThrownBy(() -> Args.parse(SCALE, List.of("web=1")).app(SCALE)).hasMessageContaining("missing -a APP");
    }

    @Test
    void helpWinsOverMissingArguments() {
        assertThat(Args.parse(SCALE, List.of("--help")).flag("help")).isTrue();
        assertThat(Args.parse(SCALE, List.of("-h")).flag("help")).isTrue();
    }

    @Test
    void scaleAndConfigArgumentsAreCheckedHere() {
        assertThat(PsCommands.quantities(List.of("web=2", "worker=0"))).isEqualTo(Map.of("web", 2, "worker", 0));
        assertThatThrownBy(() -> PsCommands.quantities(List.of("web=-1"))).hasMessageContaining("'web=-1'");
        assertThatThrownBy(() -> PsCommands.quantities(List.of("web"))).hasMessageContaining("'web'");
        assertThatThrownBy(() -> PsCommands.quantities(List.of("=2"))).hasMessageContaining("'=2'");
        assertThat(ConfigCommands.assignments(List.of("A=1", "B=x=y", "C="))).isEqualTo(Map.of("A", "1", "B", "x=y", "C", ""));
        assertThatThrownBy(() -> ConfigCommands.assignments(List.of("NOVALUE"))).hasMessageContaining("'NOVALUE'");
    }
}

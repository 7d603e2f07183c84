package io.dynoplane.bench;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/** {@code ./dynoplane bench NAME [options]}: runs one benchmark; its last line of output is JSON. */
public final class Bench {
    private Bench() {}

    public static void main(String[] args) throws Exception {
        Deque<String> rest = new ArrayDeque<>(List.of(args));
        String name = rest.isEmpty() ? "" : rest.pop();
        switch (name) {
            case "smoke" -> SmokeBench.run(SmokeBench.Options.parse(rest));
            case "provision" -> ProvisionBench.run(rest);
            case "policy" -> PolicyBench.run(rest);
            case "nat" -> NatBench.run(rest);
            case "router" -> RouterBench.run(rest);
            case "route-table" -> org.openjdk.jmh.Main.main(new String[] {"RouteTableBench", "-f", "1", "-wi", "2", "-i", "3"});
            case "router-hot" -> RouterHotBench.run(rest);
            case "dynos" -> DynoBench.run(rest);
            default -> {
                System.err.println("dynoplane: unknown benchmark '" + name + "'; known: smoke, provision, policy, nat, router, route-table, router-hot, dynos");
                System.exit(1);
            }
        }
    }
}

package io.dynoplane.provisioner;

import io.dynoplane.ffm.BpfMap;
import io.dynoplane.ffm.BpfSyscall;
import io.dynoplane.ffm.Syscalls;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.dynoplane.provisioner.DynoTraffic.hostConnect;
import static io.dynoplane.provisioner.DynoTraffic.tcp;
import static io.dynoplane.provisioner.PlaneProcessDriver.PORT;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The plane's process is killed (SIGKILL) with dynos running: the guard keeps enforcing every rule with no
 * process of ours alive, its counters still counting in the pinned map; a new process then opens the same pins,
 * adopts every veth onto its own programs with no rule lost (same maps, same counters, same links), and guards a
 * new dyno against the adopted ones. Run on tcx links and on legacy tc filters.
 */
class IsolationRestartTest {
    private static final int ANY_PORT = 7777;

    /** A dyno as the killed process printed it. */
    record Wired(String netns, String address) {
        int id() { return new Subnet(Subnet.parse(address) & ~3).dynoId(); }

        String gateway() { return Subnet.dotted(Subnet.parse(address) - 1); }
    }

    interface Counters {
        long count(Wired dyno, Verdict verdict);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"tcx", "clsact"})
    @Timeout(180)
    void aKilledPlanesDynosStayIsolatedAndTheNextProcessAdoptsThemWithNoRuleLost(String hooks) throws Exception {
        Path pins;
        try (ProvisionerFixture fixture = new ProvisionerFixture(26); DynoTraffic traffic = new DynoTraffic()) {
            pins = fixture.config().bpfPins();
            List<Wired> wired = runAndKillPlaneProcess(fixture, hooks);
            Wired web1 = wired.get(0), worker1 = wired.get(1), web2 = wired.get(2), worker2 = wired.get(3);
            for (Wired d : wired) traffic.listen(d.netns(), PORT, ANY_PORT);
            for (Wired d : wired) {
                assertThat(new NetworkNamespace(d.netns()).processes()).as("%s's processes outlive the plane", d.netns()).isNotEmpty();
            }

            // No plane process: the pinned maps still count what the attached programs decide.
            int dynosMapId;
            long routedBeforeRestart;
            int mapFd = BpfSyscall.objGet(pins.resolve("verdicts").toString());
            int dynosFd = BpfSyscall.objGet(pins.resolve("dynos").toString());
            try {
                VerdictCounters pinned = new VerdictCounters(BpfMap.fromFd(mapFd));
                assertRulesHold(web1, worker1, web2, worker2, (d, v) -> pinned.count(d.id(), v));
                routedBeforeRestart = pinned.count(web1.id(), Verdict.PASS_ROUTER);
                dynosMapId = BpfSyscall.mapInfo(dynosFd).id();
            } finally {
                Syscalls.close(mapFd);
                Syscalls.close(dynosFd);
            }

            // The next process: same pins, its own programs.
            IsolationPlane isolation = IsolationPlane.open(pins, hooks.equals("tcx"));
            try (Provisioner restarted = new Provisioner(fixture.config(), isolation)) {
                List<DynoNetwork> adopted = restarted.adopt();
                assertThat(adopted).extracting(n -> n.netns().name()).containsExactlyInAnyOrderElementsOf(wired.stream().map(Wired::netns).toList());
                int[] programs = isolation.programIds();
                for (DynoNetwork n : adopted) assertThat(attachedPrograms(hooks, pins, n)).as(n.hostVeth()).containsExactly(programs[0], programs[1]);
                int reopened = BpfSyscall.objGet(pins.resolve("dynos").toString());
                try {
                    assertThat(BpfSyscall.mapInfo(reopened).id()).as("the same dynos map, not a new one").isEqualTo(dynosMapId);
                } finally {
                    Syscalls.close(reopened);
                }
                assertThat(isolation.count(web1.id(), Verdict.PASS_ROUTER)).as("counters carried over").isEqualTo(routedBeforeRestart);

                assertRulesHold(web1, worker1, web2, worker2, (d, v) -> isolation.count(d.id(), v));

                // A dyno wired by the new process is isolated from the adopted ones, and they from it.
                Dyno web3 = restarted.provision(new DynoSpec(fixture.app, "web", 3, "exec sleep 600", fixture.release, Map.of(), PORT), line -> {});
                traffic.listen(web3.netns().name(), PORT);
                assertThat(hostConnect(web3.address(), PORT)).isEqualTo("ok");
                long dropped = isolation.count(web3.id(), Verdict.DROP_TO_DYNO);
                assertThat(tcp(web3.netns().name(), web1.address(), PORT)).isEqualTo("refused");
                assertThat(isolation.count(web3.id(), Verdict.DROP_TO_DYNO)).isGreaterThan(dropped);
                assertThat(tcp(worker1.netns(), web3.address(), PORT)).isEqualTo("refused");

                restarted.reconcile();
                assertThat(fixture.namespaces()).isEmpty();
                assertThat(fixture.veths()).isEmpty();
            } finally {
                isolation.removePins();
            }
        }
        assertThat(pins).doesNotExist();
    }

    /** Each rule once, with its counter: router in, worker closed, no dyno to dyno, no host, space members talk. */
    private static void assertRulesHold(Wired web1, Wired worker1, Wired web2, Wired worker2, Counters c) throws Exception {
        long routed = c.count(web1, Verdict.PASS_ROUTER);
        assertThat(hostConnect(web1.address(), PORT)).isEqualTo("ok");
        assertThat(c.count(web1, Verdict.PASS_ROUTER)).isEqualTo(routed + 1);

        long inbound = c.count(worker1, Verdict.DROP_INBOUND);
        assertThat(hostConnect(worker1.address(), PORT)).isEqualTo("refused");
        assertThat(c.count(worker1, Verdict.DROP_INBOUND)).isGreaterThan(inbound);

        long toDyno = c.count(worker1, Verdict.DROP_TO_DYNO);
        assertThat(tcp(worker1.netns(), web1.address(), PORT)).isEqualTo("refused");
        assertThat(c.count(worker1, Verdict.DROP_TO_DYNO)).isGreaterThan(toDyno);

        long toHost = c.count(worker1, Verdict.DROP_TO_HOST);
        assertThat(tcp(worker1.netns(), worker1.gateway(), 22)).isEqualTo("refused");
        assertThat(c.count(worker1, Verdict.DROP_TO_HOST)).isGreaterThan(toHost);

        long space = c.count(worker2, Verdict.PASS_SPACE);
        assertThat(tcp(worker2.netns(), web2.address(), ANY_PORT)).isEqualTo("ok");
        assertThat(c.count(worker2, Verdict.PASS_SPACE)).isGreaterThan(space);
        long spaceOut = c.count(web2, Verdict.DROP_TO_DYNO);
        assertThat(tcp(web2.netns(), web1.address(), PORT)).isEqualTo("refused");
        assertThat(c.count(web2, Verdict.DROP_TO_DYNO)).isGreaterThan(spaceOut);
    }

    /** Ids of the programs on the veth's ingress and egress, as the kernel reports them. */
    private static List<Integer> attachedPrograms(String hooks, Path pins, DynoNetwork n) throws Exception {
        List<Integer> ids = new ArrayList<>();
        if (hooks.equals("tcx")) {
            for (String direction : List.of("from", "to")) {
                int link = BpfSyscall.objGet(pins.resolve("links").resolve(n.hostIfindex() + "-" + direction).toString());
                try {
                    ids.add(BpfSyscall.linkInfo(link).progId());
                } finally {
                    Syscalls.close(link);
                }
            }
        } else {
            for (String hook : List.of("ingress", "egress")) {
                String filters = run("tc", "filter", "show", "dev", n.hostVeth(), hook);
                var id = java.util.regex.Pattern.compile(" id (\\d+) ").matcher(filters);
                assertThat(id.find()).as("a filter on %s %s: %s", n.hostVeth(), hook, filters).isTrue();
                ids.add(Integer.parseInt(id.group(1)));
                assertThat(id.find()).as("one filter on %s %s: %s", n.hostVeth(), hook, filters).isFalse();
            }
        }
        return ids;
    }

    private static List<Wired> runAndKillPlaneProcess(ProvisionerFixture fixture, String hooks) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process driver = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", classpath, PlaneProcessDriver.class.getName(),
                fixture.pool, fixture.state.toString(), fixture.release.toString(), fixture.app, hooks)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        List<Wired> wired = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(driver.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null && !line.equals("ready"); ) {
                String[] words = line.split(" ");
                if (words[0].equals("wired")) wired.add(new Wired(words[1], words[2]));
            }
        } finally {
            driver.destroyForcibly(); // SIGKILL: no shutdown hook, no close
            driver.waitFor();
        }
        assertThat(wired).as("dynos the plane process wired before it was killed").hasSize(4);
        assertThat(Files.exists(fixture.config().bpfPins().resolve("verdicts"))).isTrue();
        return wired;
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}

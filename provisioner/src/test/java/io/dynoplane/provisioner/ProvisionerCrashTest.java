package io.dynoplane.provisioner;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A provisioner killed (SIGKILL) in the middle of a batch, then a new one started on the same
 * state: reconcile leaves no orphan, and no /30 is leased twice afterwards.
 */
class ProvisionerCrashTest {
    private static final int BATCH = 40;
    private static final int KILL_AFTER = 6;

    @Test
    @Timeout(180)
    void reconcileAfterAKillMidBatchLeavesNoOrphanAndNoDoubleLease() throws Exception {
        try (ProvisionerFixture fixture = new ProvisionerFixture(24)) {
            Process driver = startDriver(fixture);
            try (BufferedReader out = new BufferedReader(new InputStreamReader(driver.getInputStream(), StandardCharsets.UTF_8))) {
                int provisioned = 0;
                for (String line; provisioned < KILL_AFTER && (line = out.readLine()) != null; ) {
                    if (line.startsWith("provisioned ")) provisioned++;
                }
                assertThat(provisioned).as("the driver provisioned dynos before it was killed").isEqualTo(KILL_AFTER);
            } finally {
                driver.destroyForcibly(); // SIGKILL, wherever it is in the next dyno's wiring
                driver.waitFor();
            }
            // What the dead provisioner left: leased dynos, some possibly half-wired, their processes orphaned.
            Map<Subnet, String> leftLeases = fixture.journaledLeases();
            assertThat(leftLeases).hasSizeGreaterThanOrEqualTo(KILL_AFTER);
            assertThat(fixture.namespaces()).isNotEmpty();

            try (IsolationPlane isolation = IsolationPlane.open(fixture.config().bpfPins());
                 Provisioner restarted = new Provisioner(fixture.config(), isolation)) {
                List<String> removed = restarted.reconcile();
                assertThat(removed).containsAll(leftLeases.values());
                assertThat(fixture.namespaces()).as("orphan namespaces").isEmpty();
                assertThat(fixture.veths()).as("orphan veths").isEmpty();
                assertThat(fixture.mounts()).as("orphan mounts").isEmpty();
                assertThat(restarted.leases()).isEmpty();
                SandboxLeftovers.assertNoneFor(fixture.app);

                // A new batch on the same pool: every /30 distinct, each host address on exactly one link.
                List<Dyno> dynos = new ArrayList<>();
                try {
                    for (int i = 1; i <= 5; i++) dynos.add(restarted.provision(fixture.worker(i), line -> {}));
                    assertThat(dynos.stream().map(Dyno::subnet).distinct()).hasSize(5);
                    assertThat(fixture.journaledLeases()).hasSize(5);
                    String addrs = run("ip", "-4", "-o", "addr", "show");
                    for (Dyno d : dynos) {
                        assertThat(addrs.split("\n")).filteredOn(l -> l.contains(" " + d.subnet().hostCidr() + " ")).hasSize(1);
                    }
                } finally {
                    for (Dyno d : dynos) restarted.teardown(d, Duration.ofSeconds(5));
                }
            }
        }
    }

    private static Process startDriver(ProvisionerFixture fixture) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", classpath, ProvisionerCrashDriver.class.getName(),
                fixture.pool, fixture.state.toString(), fixture.release.toString(), fixture.app, Integer.toString(BATCH))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}

package io.dynoplane.plane;

import io.dynoplane.ffm.RtNetlink;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An uplink of a test's own: a veth {@code name} in the root namespace (198.18.N.1/24) whose far end,
 * {@code eth0}, lives in a namespace standing for the internet (198.18.N.2/24, no route back to any dyno
 * pool), plus a state folder and a copy of examples/hello for the test's plane. Closing removes all of it.
 */
final class TestUplink implements AutoCloseable {
    final String name;
    final String internet;
    final Path state;
    final Path release;
    private final String net;

    private TestUplink(String prefix) throws IOException {
        name = prefix + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
        internet = name + "-inet";
        net = "198.18." + ThreadLocalRandom.current().nextInt(256);
        state = Files.createTempDirectory(name);
        release = Files.createTempDirectory(name + "-app");
        for (String file : List.of("Procfile", "server.py")) Files.copy(Path.of("../examples/hello", file), release.resolve(file));
    }

    /** Makes the namespace, the veth pair and the addresses; {@code prefix} starts the veth's name. */
    static TestUplink create(String prefix) throws Exception {
        TestUplink uplink = new TestUplink(prefix);
        try {
            run("ip", "netns", "add", uplink.internet);
            run("ip", "link", "add", uplink.name, "type", "veth", "peer", "name", "eth0", "netns", uplink.internet);
            run("ip", "addr", "add", uplink.address() + "/24", "dev", uplink.name);
            run("ip", "link", "set", uplink.name, "up");
            run("ip", "-n", uplink.internet, "addr", "add", uplink.internetAddress() + "/24", "dev", "eth0");
            run("ip", "-n", uplink.internet, "link", "set", "eth0", "up");
            return uplink;
        } catch (Exception | AssertionError e) {
            uplink.close();
            throw e;
        }
    }

    /** The host's address on the uplink. */
    String address() { return net + ".1"; }

    /** The internet namespace's address. */
    String internetAddress() { return net + ".2"; }

    /** The uplink's network, e.g. as the dynos' egress. */
    String cidr() { return net + ".0/24"; }

    @Override
    public void close() throws Exception {
        try (RtNetlink rtnl = RtNetlink.open()) {
            if (rtnl.findLink(name).isPresent()) rtnl.deleteLink(name);
        }
        new ProcessBuilder("ip", "netns", "delete", internet).start().waitFor();
        for (Path dir : List.of(state, release)) {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Runs {@code command} and returns its output, asserting it succeeded. */
    static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("%s: %s", String.join(" ", command), out).isZero();
        return out;
    }
}

package io.dynoplane.ffm;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hundreds of links: 300 veth pairs whose peers p0..p299 are born in a namespace of this run, so indexes pass 255 on
 * both sides and a links() dump spans many datagrams. Indexes must agree with the kernel's own view
 * (/sys/class/net in the root namespace, {@code ip -n} in the test namespace).
 */
class RtNetlinkScaleTest {
    private static final int PAIRS = 300;
    private static final int ONE_BY_ONE = 30;

    @Test
    void threeHundredVethPairsIntoANamespace() throws IOException {
        String namespace = Shell.uniqueName("dpt");
        String prefix = Shell.uniqueName("dpt");  // + index: at most 12 characters
        NetworkNamespaces.create(namespace);
        try (RtNetlink root = RtNetlink.open(); RtNetlink dyno = RtNetlink.openIn(namespace)) {
            long start = System.nanoTime();
            int netnsFd = Syscalls.open("/run/netns/" + namespace, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC);
            try {
                for (int i = 0; i < PAIRS; i++) root.createVethPair(prefix + i, "p" + i, netnsFd);
            } finally {
                Syscalls.close(netnsFd);
            }
            long created = System.nanoTime();

            List<RtNetlink.Link> hostSide = root.links().stream().filter(l -> l.name().startsWith(prefix)).toList();
            List<RtNetlink.Link> dynoSide = dyno.links();
            long dumped = System.nanoTime();

            assertThat(hostSide).hasSize(PAIRS).allSatisfy(link -> {
                assertThat(link.kind()).isEqualTo("veth");
                assertThat(link.up()).isFalse();
                assertThat(link.index()).isEqualTo(sysfsIndex(link.name()));
            });
            assertThat(dynoSide).hasSize(PAIRS + 1);  // and lo
            Map<String, Integer> ipView = ipLinkIndexes(namespace);
            assertThat(dynoSide).allSatisfy(link -> assertThat(link.index()).isEqualTo(ipView.get(link.name())));
            assertThat(dyno.linkIndex("p" + (PAIRS - 1))).isGreaterThan(255);
            assertThat(hostSide.stream().mapToInt(RtNetlink.Link::index).max().orElseThrow()).isGreaterThan(255);

            // One by one, RTM_DELLINK costs the kernel RCU grace periods per link: delete some that way, then the rest
            // the way a dyno is torn down, by deleting its namespace, which the kernel unregisters in one batch,
            // root-side ends included.
            long deleteStart = System.nanoTime();
            for (RtNetlink.Link link : hostSide.subList(0, ONE_BY_ONE)) root.deleteLink(link.index());
            long deletedOneByOne = System.nanoTime();
            assertThat(dyno.links()).hasSize(PAIRS + 1 - ONE_BY_ONE);
            dyno.close();  // an open socket in the namespace would keep it, and its links, alive
            NetworkNamespaces.delete(namespace);
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (root.links().stream().anyMatch(l -> l.name().startsWith(prefix))) {
                assertThat(System.nanoTime()).as("root-side ends still there 20 s after the namespace went").isLessThan(deadline);
                sleep(10);
            }
            long deleted = System.nanoTime();

            System.out.printf("%d veth pairs: create %d ms, dump both sides %d ms, delete %d one by one %d ms,"
                            + " the other %d by deleting the namespace %d ms%n", PAIRS,
                    (created - start) / 1_000_000, (dumped - created) / 1_000_000, ONE_BY_ONE,
                    (deletedOneByOne - deleteStart) / 1_000_000, PAIRS - ONE_BY_ONE, (deleted - deletedOneByOne) / 1_000_000);
        } finally {
            for (int i = 0; i < PAIRS; i++) {
                if (Files.exists(Path.of("/sys/class/net/" + prefix + i))) Shell.runQuietly("ip", "link", "del", prefix + i);
            }
            NetworkNamespaces.delete(namespace);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static int sysfsIndex(String link) {
        try {
            return Integer.parseInt(Files.readString(Path.of("/sys/class/net/" + link + "/ifindex")).strip());
        } catch (IOException e) {
            throw new AssertionError("no /sys/class/net/" + link, e);
        }
    }

    // "7: p5@if312: <BROADCAST,..." lines of ip -o link
    private static Map<String, Integer> ipLinkIndexes(String namespace) {
        Map<String, Integer> indexes = new HashMap<>();
        Matcher line = Pattern.compile("(?m)^(\\d+): ([^:@]+)[@:]").matcher(Shell.run("ip", "-n", namespace, "-o", "link", "show"));
        while (line.find()) indexes.put(line.group(2), Integer.parseInt(line.group(1)));
        return indexes;
    }
}

package io.dynoplane.ffm;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.dynoplane.ffm.Fixtures.counter;
import static io.dynoplane.ffm.TcxLinkTest.DISCARD;
import static io.dynoplane.ffm.TcxLinkTest.DROPPED;
import static io.dynoplane.ffm.VethBetweenNamespaces.awaitAtLeast;
import static io.dynoplane.ffm.VethBetweenNamespaces.receive;
import static io.dynoplane.ffm.VethBetweenNamespaces.receivesAnything;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What lets isolation outlive the JVM: a tcx link, its program and its map pinned under /sys/fs/bpf/dpt-HEX keep
 * enforcing after every fd to them is closed, in this process or by the exit of another, and a later process adopts
 * them from the pins alone: which interface and hook the link is on, which program it runs, the map's counters.
 */
class TcxPinTest {
    private static final int DATAGRAMS = 3;
    private static final Duration QUIET = Duration.ofMillis(200);
    private static final String[] PINS = {"link", "tcx_counts", "prog"};

    private VethBetweenNamespaces net;
    private String pinDir;
    private DatagramSocket discard;
    private DatagramSocket open;
    private final List<Integer> fds = new ArrayList<>();

    @BeforeEach
    void setUp() {
        net = VethBetweenNamespaces.create();
        pinDir = "/sys/fs/bpf/" + Shell.uniqueName("dpt-");
        discard = net.receiverSocket(DISCARD);
        open = net.receiverSocket(0);
    }

    @AfterEach
    void tearDown() throws IOException {
        try {
            for (int fd : fds) Syscalls.close(fd);
            // Unpinning the last reference to a link detaches its program; the directory goes once empty.
            for (String pin : PINS) BpfSyscall.objUnpin(pinDir + "/" + pin);
            Files.deleteIfExists(Path.of(pinDir));
        } finally {
            net.close();
        }
    }

    @Test
    void pinsKeepEnforcingAfterTheObjectAndEveryFdAreClosedAndAreAdopted() throws Exception {
        int ifindex = net.receiverIfindex();
        Files.createDirectory(Path.of(pinDir));
        int progId;
        String tag;
        try (BpfObject object = Fixtures.load("tcx_verdict")) {
            BpfProgram program = object.program("tcx_verdict");
            int progFd = program.fd();
            int linkFd = NetworkNamespaces.inside(net.receiver, () -> BpfSyscall.tcxAttach(progFd, ifindex, TcxDirection.INGRESS));
            try {
                BpfSyscall.objPin(linkFd, pinDir + "/link");
            } finally {
                Syscalls.close(linkFd);
            }
            object.map("tcx_counts").pin(pinDir + "/tcx_counts");
            program.pin(pinDir + "/prog");
            BpfProgInfo info = BpfSyscall.progInfo(progFd);
            progId = info.id();
            tag = info.tag();
        }
        assertThat(bpfFdsOfThisProcessFor(progId)).as("fds of this process on the program").isEmpty();

        assertEnforcedAndAdoptable(ifindex, progId);
        assertThat(BpfSyscall.progInfo(fd(BpfSyscall.objGet(pinDir + "/prog"))).tag()).isEqualTo(tag);
    }

    @Test
    void pinsMadeByAnExitedJvmKeepEnforcingAndAreAdopted() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", classpath,
                TcxPinDriver.class.getName(), net.receiver, net.receiverLink, pinDir)
                .redirectErrorStream(true)
                .start();
        child.getOutputStream().close();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).as("driver exits; output:\n%s", output).isTrue();
        assertThat(child.exitValue()).as("driver exit code; output:\n%s", output).isZero();
        Matcher made = Pattern.compile("pinned ifindex=(\\d+) prog_id=(\\d+)").matcher(output);
        assertThat(made.find()).as("driver output:\n%s", output).isTrue();
        int ifindex = Integer.parseInt(made.group(1));
        assertThat(ifindex).isEqualTo(net.receiverIfindex());

        assertEnforcedAndAdoptable(ifindex, Integer.parseInt(made.group(2)));
    }

    /**
     * Port 9 dropped and other ports delivered with only the pins holding the program; then, as a restarted plane
     * would: the link's interface, hook and program from the pinned link, the counters from the pinned map, a reload
     * of the object onto that map; finally detach through the pinned link, and port 9 flows.
     */
    private void assertEnforcedAndAdoptable(int ifindex, int progId) throws Exception {
        net.send(DISCARD, DATAGRAMS);
        net.send(open.getLocalPort(), DATAGRAMS);
        receive(open, DATAGRAMS);

        BpfMap counts = BpfMap.fromFd(fd(BpfSyscall.objGet(pinDir + "/tcx_counts")));
        assertThat(counts.name()).isEqualTo("tcx_counts");
        assertThat(counts.keySize()).isEqualTo(4);
        assertThat(counts.valueSize()).isEqualTo(8);
        assertThat(counts.perCpu()).isFalse();
        assertThat(awaitAtLeast(() -> counter(counts, DROPPED), DATAGRAMS)).isEqualTo(DATAGRAMS);
        assertThat(receivesAnything(discard, QUIET)).as("port 9, program held by pins only").isFalse();

        int linkFd = fd(BpfSyscall.objGet(pinDir + "/link"));
        BpfLinkInfo link = BpfSyscall.linkInfo(linkFd);
        assertThat(link.isAttachedTcx()).isTrue();
        assertThat(link.ifindex()).isEqualTo(ifindex);
        assertThat(link.tcxDirection()).contains(TcxDirection.INGRESS);
        assertThat(link.progId()).isEqualTo(progId);

        BpfProgInfo program = BpfSyscall.progInfo(fd(BpfSyscall.progGetFdById(link.progId())));
        assertThat(program.name()).isEqualTo("tcx_verdict");
        assertThat(program.type()).isEqualTo(3); // BPF_PROG_TYPE_SCHED_CLS
        assertThat(program.tag()).hasSize(16).isHexadecimal();
        assertThat(BpfSyscall.progInfo(fd(BpfSyscall.objGet(pinDir + "/prog")))).isEqualTo(program);

        // A restarted plane loads the object again onto the pinned map instead of a fresh one.
        try (BpfObject reloaded = Libbpf.openObject("tcx_verdict", Fixtures.elf("tcx_verdict"))) {
            reloaded.map("tcx_counts").reuseFd(counts.fd());
            reloaded.load();
            BpfMap reused = reloaded.map("tcx_counts");
            assertThat(BpfSyscall.mapInfo(reused.fd()).id()).isEqualTo(BpfSyscall.mapInfo(counts.fd()).id());
            assertThat(counter(reused, DROPPED)).isEqualTo(DATAGRAMS);
        }

        BpfSyscall.linkDetach(linkFd);
        assertThat(BpfSyscall.linkInfo(linkFd).isAttachedTcx()).isFalse();
        net.send(DISCARD, DATAGRAMS);
        receive(discard, DATAGRAMS);
        assertThat(counter(counts, DROPPED)).isEqualTo(DATAGRAMS);
    }

    /** Closed in tearDown. */
    private int fd(int fd) {
        fds.add(fd);
        return fd;
    }

    /** This process's fds whose /proc fdinfo names the program (prog_id: of a program or of a link running it). */
    private static List<String> bpfFdsOfThisProcessFor(int progId) throws IOException {
        List<String> found = new ArrayList<>();
        try (DirectoryStream<Path> infos = Files.newDirectoryStream(Path.of("/proc/self/fdinfo"))) {
            for (Path info : infos) {
                try {
                    if (Files.readAllLines(info).contains("prog_id:\t" + progId)) found.add(info.getFileName().toString());
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        }
        return found;
    }
}

package io.dynoplane.ffm;

/**
 * The first life of a plane, for {@link TcxPinTest}, run in a JVM of its own: loads tcx_verdict, attaches it to
 * the interface's tcx ingress inside the namespace, pins the link, the map and the program under the pin
 * directory, prints what it made and exits. Whatever survives is held by the pins alone.
 *
 * <p>Arguments: namespace, interface, pin directory (on bpffs; created by libbpf if missing).
 */
public final class TcxPinDriver {
    private TcxPinDriver() {}

    public static void main(String[] args) {
        String namespace = args[0];
        String ifname = args[1];
        String pinDir = args[2];
        try (BpfObject object = Fixtures.load("tcx_verdict")) {
            BpfProgram program = object.program("tcx_verdict");
            program.pin(pinDir + "/prog");
            object.map("tcx_counts").pin(pinDir + "/tcx_counts");
            int progFd = program.fd();
            int[] made = NetworkNamespaces.inside(namespace, () -> {
                int ifindex = Libbpf.ifindex(ifname);
                return new int[] {ifindex, BpfSyscall.tcxAttach(progFd, ifindex, TcxDirection.INGRESS)};
            });
            BpfSyscall.objPin(made[1], pinDir + "/link");
            System.out.println("pinned ifindex=" + made[0] + " prog_id=" + BpfSyscall.progInfo(progFd).id());
            // No cleanup on purpose beyond what exit does anyway: fds close, the object goes, the pins stay.
        }
    }
}

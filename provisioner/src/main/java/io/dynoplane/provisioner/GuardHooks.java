package io.dynoplane.provisioner;

import io.dynoplane.ffm.BpfLinkInfo;
import io.dynoplane.ffm.BpfSyscall;
import io.dynoplane.ffm.Libbpf;
import io.dynoplane.ffm.LibbpfException;
import io.dynoplane.ffm.Syscalls;
import io.dynoplane.ffm.TcAttachPoint;
import io.dynoplane.ffm.TcxDirection;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How the guard's two programs sit on a dyno's host veth, and how a restarted plane takes them over. Either way
 * the attachment outlives this process, so isolation holds while no control plane runs.
 */
sealed interface GuardHooks permits GuardHooks.Tcx, GuardHooks.Clsact {
    int ENODEV = 19;

    /** Puts {@code fromFd} on the veth's ingress (what the dyno sends) and {@code toFd} on its egress. */
    void attach(int ifindex, int fromFd, int toFd);

    /**
     * Makes the veth run the given programs instead of whatever an earlier plane attached, with no moment
     * unguarded. False if the interface is gone (then nothing of it is left here).
     */
    boolean adopt(int ifindex, int fromFd, int toFd);

    /** Forgets the attachments of a veth that has been deleted (the kernel already detached its programs). */
    void release(int ifindex);

    /** Removes everything this keeps outside the kernel's own objects (link pins). */
    void removeAll();

    /** "tcx" or "clsact", for logs and metrics. */
    String kind();

    /**
     * tcx links (kernel 6.6+), one per direction, pinned at {@code links/IFINDEX-from|to} under the plane's pin
     * folder: a link lives as long as its pin, and is appended after other tcx programs, never replacing them.
     * Adoption swaps the program under the pinned link (BPF_LINK_UPDATE), which is atomic.
     */
    record Tcx(Path links) implements GuardHooks {
        public Tcx {
            try {
                Files.createDirectories(links);
            } catch (IOException e) {
                throw new UncheckedIOException("creating tcx link pin folder " + links, e);
            }
        }

        @Override
        public void attach(int ifindex, int fromFd, int toFd) {
            pin(BpfSyscall.tcxAttach(fromFd, ifindex, TcxDirection.INGRESS), pinPath(ifindex, "from"));
            pin(BpfSyscall.tcxAttach(toFd, ifindex, TcxDirection.EGRESS), pinPath(ifindex, "to"));
        }

        @Override
        public boolean adopt(int ifindex, int fromFd, int toFd) {
            if (!Files.exists(pinPath(ifindex, "from")) || !Files.exists(pinPath(ifindex, "to"))) {
                // A plane killed between admit and pin: no link holds a program; attach as new (or report it gone).
                release(ifindex);
                try {
                    attach(ifindex, fromFd, toFd);
                    return true;
                } catch (LibbpfException e) {
                    if (e.errno() == ENODEV) return false;
                    throw e;
                }
            }
            boolean live = update(pinPath(ifindex, "from"), ifindex, fromFd) & update(pinPath(ifindex, "to"), ifindex, toFd);
            if (!live) release(ifindex);
            return live;
        }

        @Override
        public void release(int ifindex) {
            BpfSyscall.objUnpin(pinPath(ifindex, "from").toString());
            BpfSyscall.objUnpin(pinPath(ifindex, "to").toString());
        }

        @Override
        public void removeAll() {
            try (var pins = Files.list(links)) {
                for (Path pin : pins.toList()) BpfSyscall.objUnpin(pin.toString());
                Files.deleteIfExists(links);
            } catch (IOException e) {
                throw new UncheckedIOException("removing tcx link pins in " + links, e);
            }
        }

        @Override
        public String kind() { return "tcx"; }

        /** Whether the pinned link still sits on {@code ifindex}; if so, now runs {@code progFd}. */
        private static boolean update(Path pin, int ifindex, int progFd) {
            int linkFd = BpfSyscall.objGet(pin.toString());
            try {
                BpfLinkInfo info = BpfSyscall.linkInfo(linkFd);
                if (info.ifindex() != ifindex) return false; // defunct: its veth was deleted
                BpfSyscall.linkUpdate(linkFd, progFd);
                return true;
            } finally {
                Syscalls.close(linkFd);
            }
        }

        private static void pin(int linkFd, Path path) {
            try {
                BpfSyscall.objUnpin(path.toString()); // a defunct link of an earlier veth with this ifindex
                BpfSyscall.objPin(linkFd, path.toString());
            } finally {
                Syscalls.close(linkFd);
            }
        }

        private Path pinPath(int ifindex, String direction) {
            return links.resolve(ifindex + "-" + direction); // bpffs reserves dots in names
        }
    }

    /**
     * Legacy tc: a direct-action filter (handle 1, priority 1) on the veth's clsact qdisc, for kernels without tcx.
     * The filter holds its program until the veth goes; adoption replaces the program in place (BPF_TC_F_REPLACE).
     * Other filters on the qdisc are never deleted.
     */
    record Clsact() implements GuardHooks {
        private static final int HANDLE = 1;
        private static final int PRIORITY = 1;

        @Override
        public void attach(int ifindex, int fromFd, int toFd) {
            Libbpf.tcHookCreate(ifindex, TcAttachPoint.INGRESS); // creates clsact (both hooks); false if there
            Libbpf.tcAttach(ifindex, TcAttachPoint.INGRESS, fromFd, HANDLE, PRIORITY);
            Libbpf.tcAttach(ifindex, TcAttachPoint.EGRESS, toFd, HANDLE, PRIORITY);
        }

        @Override
        public boolean adopt(int ifindex, int fromFd, int toFd) {
            try {
                Libbpf.tcReplace(ifindex, TcAttachPoint.INGRESS, fromFd, HANDLE, PRIORITY);
                Libbpf.tcReplace(ifindex, TcAttachPoint.EGRESS, toFd, HANDLE, PRIORITY);
                return true;
            } catch (LibbpfException e) {
                if (e.errno() == ENODEV) return false;
                // No clsact yet: a plane killed between making the veth and attaching. Attach as new.
                attach(ifindex, fromFd, toFd);
                return true;
            }
        }

        @Override
        public void release(int ifindex) {} // the filters went with the veth

        @Override
        public void removeAll() {}

        @Override
        public String kind() { return "clsact"; }
    }
}

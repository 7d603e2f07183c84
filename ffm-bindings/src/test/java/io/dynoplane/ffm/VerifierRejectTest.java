package io.dynoplane.ffm;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** A program the verifier rejects: the failure carries errno and the verifier's log, which also goes to the "libbpf" logger. */
class VerifierRejectTest {
    private static final int EACCES = 13;

    @Test
    void rejectionCarriesErrnoAndVerifierLog() {
        Logger julLogger = Logger.getLogger("libbpf"); // the System.Logger "libbpf" is backed by java.util.logging here
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override public void publish(LogRecord record) { records.add(record); }
            @Override public void flush() {}
            @Override public void close() {}
        };
        julLogger.addHandler(handler);
        try (BpfObject object = Libbpf.openObject("verifier_reject", Fixtures.elf("verifier_reject"))) {
            LibbpfException e = catchThrowableOfType(LibbpfException.class, object::load);

            assertThat(e.errno()).isEqualTo(EACCES);
            assertThat(e.errnoName()).isEqualTo("EACCES");
            assertThat(e.operation()).isEqualTo("bpf_object__load");
            assertThat(e.target()).isEqualTo("object verifier_reject");
            assertThat(e.libbpfLog())
                    .contains("prog 'read_unchecked': BPF program load failed")
                    .contains("-- BEGIN PROG LOAD LOG --")
                    .contains("invalid access to packet")
                    .contains("-- END PROG LOAD LOG --");
            assertThat(e.getMessage())
                    .startsWith("bpf_object__load (object verifier_reject) failed: EACCES (Permission denied)")
                    .contains("invalid access to packet");
        } finally {
            julLogger.removeHandler(handler);
        }
        assertThat(records).anySatisfy(record -> {
            assertThat(record.getLevel()).isEqualTo(Level.WARNING);
            assertThat(record.getMessage()).contains("invalid access to packet");
        });
    }

    @Test
    void logOfAFailureDoesNotLeakIntoTheNextOne() {
        try (BpfObject object = Libbpf.openObject("verifier_reject", Fixtures.elf("verifier_reject"))) {
            catchThrowableOfType(LibbpfException.class, object::load);
        }
        LibbpfException e = catchThrowableOfType(LibbpfException.class, () -> Libbpf.xdpDetach(-1, 0));
        assertThat(e.libbpfLog()).doesNotContain("PROG LOAD LOG");
    }
}

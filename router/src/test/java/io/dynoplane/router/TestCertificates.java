package io.dynoplane.router;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Self-signed EC certificates made with the openssl CLI at test time, and an SSLContext trusting them. */
final class TestCertificates {
    private final List<RouterTls.Certificate> certificates = new ArrayList<>();
    private final Path dir;

    private TestCertificates(Path dir) {
        this.dir = dir;
    }

    /** One certificate per name (subject CN, subjectAltName that DNS name and 127.0.0.1), in {@code dir}. */
    static TestCertificates create(Path dir, String... names) throws IOException, InterruptedException {
        TestCertificates made = new TestCertificates(dir);
        for (String name : names) {
            Path cert = dir.resolve(name + ".crt");
            Path key = dir.resolve(name + ".key");
            Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:" + name + ",IP:127.0.0.1",
                    "-keyout", key.toString(), "-out", cert.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile()).start();
            if (!openssl.waitFor(30, TimeUnit.SECONDS) || openssl.exitValue() != 0) {
                throw new IOException("openssl failed for " + name + ": "
                        + Files.readString(dir.resolve(name + ".log")));
            }
            made.certificates.add(new RouterTls.Certificate(name, cert, key));
        }
        return made;
    }

    List<RouterTls.Certificate> certificates() {
        return certificates;
    }

    /** A client context that trusts exactly these certificates. */
    SSLContext trustingContext() throws IOException, GeneralSecurityException {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        CertificateFactory x509 = CertificateFactory.getInstance("X.509");
        for (RouterTls.Certificate certificate : certificates) {
            try (InputStream in = Files.newInputStream(certificate.certChain())) {
                trust.setCertificateEntry(certificate.domain(), x509.generateCertificate(in));
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    Path dir() {
        return dir;
    }
}

package io.dynoplane.router;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * The router's TLS listener: where it binds and which certificate it presents for which server name.
 * Certificates are read from PEM files once, at start (no reload).
 *
 * @param listen       address to bind; port 0 picks an ephemeral port (see {@link Router#tlsPort()})
 * @param certificates by SNI name; the first one is also presented when the client sends no server
 *                     name or one that matches no entry
 */
public record RouterTls(InetSocketAddress listen, List<Certificate> certificates) {
    public RouterTls {
        Objects.requireNonNull(listen, "listen");
        certificates = List.copyOf(certificates);
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException("the TLS listener needs at least one certificate");
        }
    }

    /**
     * One certificate.
     *
     * @param domain    server name it is presented for: {@code example.com}, or {@code *.example.com}
     *                  for any single label in front of {@code example.com} (not {@code example.com} itself)
     * @param certChain PEM file: the certificate, then any intermediates
     * @param key       PEM file: its PKCS#8 private key (unencrypted)
     */
    public record Certificate(String domain, Path certChain, Path key) {
        public Certificate {
            Objects.requireNonNull(domain, "domain");
            Objects.requireNonNull(certChain, "certChain");
            Objects.requireNonNull(key, "key");
        }
    }
}

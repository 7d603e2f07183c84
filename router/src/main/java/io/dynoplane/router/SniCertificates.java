package io.dynoplane.router;

import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;

import javax.net.ssl.SSLException;
import java.io.UncheckedIOException;

/** Server name → certificate, loaded once from the PEM files a {@link RouterTls} names. */
final class SniCertificates {
    /** HTTP/2 preferred; a client that offers neither gets HTTP/1.1 (ALPN not answered). */
    private static final ApplicationProtocolConfig ALPN = new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);

    private SniCertificates() {
    }

    /**
     * One SslContext per certificate; names matching no entry (or no SNI at all) get the first one.
     *
     * @throws UncheckedIOException when a PEM file is missing or unreadable, or the key does not fit
     */
    static Mapping<String, SslContext> load(RouterTls tls) {
        SslContext fallback = null;
        DomainWildcardMappingBuilder<SslContext> mapping = null;
        for (RouterTls.Certificate certificate : tls.certificates()) {
            SslContext context = context(certificate);
            if (mapping == null) {
                fallback = context;
                mapping = new DomainWildcardMappingBuilder<>(fallback);
            }
            mapping.add(certificate.domain(), context);
        }
        return mapping.build();
    }

    private static SslContext context(RouterTls.Certificate certificate) {
        try {
            return SslContextBuilder.forServer(certificate.certChain().toFile(), certificate.key().toFile())
                    .sslProvider(SslProvider.JDK)
                    .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE) // RFC 9113 §9.2
                    .applicationProtocolConfig(ALPN)
                    .build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new UncheckedIOException(new SSLException("cannot load the certificate for " + certificate.domain()
                    + " from " + certificate.certChain() + " and " + certificate.key() + ": " + e.getMessage(), e));
        }
    }
}

package io.drover.device;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Optional;

/** Device certificates are known by the SHA-256 of their DER encoding (lower-case hex). */
public final class X509 {

    private X509() {}

    public static String fingerprint(X509Certificate cert) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
        } catch (Exception e) {
            throw new IllegalArgumentException("cannot encode certificate", e);
        }
    }

    public static Optional<String> fingerprintOfPem(String pem) {
        try {
            X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
            return Optional.of(fingerprint(cert));
        } catch (Exception e) {
            return Optional.empty();
        }
    }
}

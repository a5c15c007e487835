package io.drover.node;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * A throwaway PKI made with the JDK's keytool: a CA, a server certificate for 127.0.0.1 and a device
 * certificate, both signed by the CA, and a truststore holding the CA.
 */
final class TlsFixtures {

    static final String PASSWORD = "changeit";

    final Path dir;

    TlsFixtures(Path dir) throws Exception {
        this.dir = dir;
        Files.createDirectories(dir);
        for (String f : new String[] {"ca.p12", "server.p12", "device.p12", "trust.p12"}) {
            Files.deleteIfExists(dir.resolve(f));
        }
        keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=Drover Test CA",
                "-ext", "bc:c", "-validity", "2", "-keystore", "ca.p12", "-storetype", "PKCS12", "-storepass", PASSWORD);
        keytool("-exportcert", "-alias", "ca", "-keystore", "ca.p12", "-storepass", PASSWORD, "-rfc", "-file", "ca.pem");
        leaf("server", "CN=localhost", "san=ip:127.0.0.1,dns:localhost");
        leaf("device", "CN=device", null);
        keytool("-importcert", "-alias", "ca", "-keystore", "trust.p12", "-storetype", "PKCS12", "-storepass", PASSWORD,
                "-file", "ca.pem", "-noprompt");
    }

    private void leaf(String name, String dname, String san) throws Exception {
        keytool("-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", dname,
                "-validity", "2", "-keystore", name + ".p12", "-storetype", "PKCS12", "-storepass", PASSWORD);
        keytool("-certreq", "-alias", name, "-keystore", name + ".p12", "-storepass", PASSWORD, "-file", name + ".csr");
        List<String> gen = new ArrayList<>(List.of("-gencert", "-alias", "ca", "-keystore", "ca.p12", "-storepass", PASSWORD,
                "-infile", name + ".csr", "-outfile", name + ".pem", "-rfc", "-validity", "2"));
        if (san != null) {
            gen.addAll(List.of("-ext", san));
        }
        keytool(gen.toArray(String[]::new));
        keytool("-importcert", "-alias", "ca", "-keystore", name + ".p12", "-storepass", PASSWORD, "-file", "ca.pem", "-noprompt");
        keytool("-importcert", "-alias", name, "-keystore", name + ".p12", "-storepass", PASSWORD, "-file", name + ".pem");
    }

    private void keytool(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("keytool " + String.join(" ", args) + " failed: " + out);
        }
    }

    Path path(String file) {
        return dir.resolve(file);
    }

    String devicePem() throws Exception {
        return Files.readString(dir.resolve("device.pem"));
    }

    KeyManagerFactory deviceKeys() throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve("device.p12"))) {
            ks.load(in, PASSWORD.toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, PASSWORD.toCharArray());
        return kmf;
    }

    TrustManagerFactory trust() throws Exception {
        KeyStore ts = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve("trust.p12"))) {
            ts.load(in, PASSWORD.toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        return tmf;
    }
}

package io.drover.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

/**
 * Dev mode's ready-to-use fleet: at first start, tenant {@code dev} and device {@code dev-device-1}
 * are created through the node's own REST API (so they are made exactly as a user would make them),
 * and their one-time secrets are kept in the data folder (mode 600) for the banner's example lines.
 */
final class DevFleet {

    static final String TENANT = "dev";
    static final String DEVICE = "dev-device-1";

    private static final int ATTEMPTS = 6;

    private DevFleet() {}

    /** {@link #ensure} with the platform admin key of {@code dataDir/admin-api-key}, when that file exists. */
    static void ensureWithAdminKeyIn(String http, Path dataDir) throws Exception {
        Path keyFile = dataDir.resolve("admin-api-key");
        if (Files.exists(keyFile)) {
            ensure(http, Files.readString(keyFile).trim(), dataDir);
        }
    }

    /** Creates the dev tenant and device unless their secret files already exist. */
    static void ensure(String http, String platformKey, Path dataDir) throws Exception {
        Path tenantKeyFile = dataDir.resolve("dev-tenant-key");
        Path tokenFile = dataDir.resolve("dev-device-token");
        if (Files.exists(tenantKeyFile) && Files.exists(tokenFile)) {
            return;
        }
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        ObjectMapper json = new ObjectMapper();
        JsonNode tenant = post(client, json, http + "/api/v1/tenants", platformKey,
                "{\"id\":\"" + TENANT + "\",\"name\":\"Dev tenant\"}");
        if (tenant == null) {
            return; // the tenant exists but its key file was lost: nothing to recreate safely
        }
        String tenantKey = tenant.at("/adminKey/key").asText();
        writeSecret(tenantKeyFile, tenantKey);
        JsonNode device = post(client, json, http + "/api/v1/devices", tenantKey,
                "{\"id\":\"" + DEVICE + "\",\"name\":\"Dev device\",\"type\":\"sensor\"}");
        if (device != null) {
            writeSecret(tokenFile, device.get("token").asText());
        }
    }

    /**
     * POSTs, trying again on 5xx and timeouts (a node that just started shares a busy Cassandra with its peers:
     * a lightweight-transaction write can time out, ClusterFailoverTest's machines saw it).
     */
    private static JsonNode post(HttpClient client, ObjectMapper json, String url, String key, String body) throws Exception {
        HttpResponse<String> r = null;
        for (int attempt = 1; ; attempt++) {
            try {
                r = client.send(HttpRequest.newBuilder(URI.create(url))
                        .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                        .timeout(Duration.ofSeconds(30))
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            } catch (java.io.IOException e) {
                if (attempt >= ATTEMPTS) {
                    throw e;
                }
            }
            if ((r != null && r.statusCode() < 500) || attempt >= ATTEMPTS) {
                break;
            }
            Thread.sleep(500L << attempt);
        }
        if (r.statusCode() == 409) {
            return null;
        }
        if (r.statusCode() != 201) {
            throw new IllegalStateException("dev fleet: POST " + url + " → " + r.statusCode() + " " + r.body());
        }
        return json.readTree(r.body());
    }

    static void writeSecret(Path file, String secret) throws Exception {
        Files.createDirectories(file.getParent());
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, secret + "\n");
    }
}

package io.drover.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The REST API of a test node, as a client sees it. */
final class TestHttp {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private TestHttp() {}

    static JsonNode call(Main.Started node, String method, String path, String key, String body, int expect) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.started().http().getPort() + path))
                .header("Authorization", "Bearer " + key)
                .timeout(Duration.ofSeconds(30));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(expect, r.statusCode(), method + " " + path + " → " + r.body());
        return r.body().isEmpty() ? null : JSON.readTree(r.body());
    }

    /** A new platform admin key, issued directly in the node's store (as ./drover create-admin-key does). */
    static String platformKey(Main.Started node, String name) throws Exception {
        return new io.drover.http.ApiKeys(node.started().persistence().access(), java.time.Clock.systemUTC())
                .issue(io.drover.persistence.ApiKey.PLATFORM_TENANT, io.drover.persistence.ApiKey.Role.PLATFORM_ADMIN, name,
                        java.util.Optional.empty())
                .toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS).secret();
    }

    /** Creates the tenant; returns its first admin key. */
    static String newTenant(Main.Started node, String platformKey, String tenant) throws Exception {
        return call(node, "POST", "/api/v1/tenants", platformKey, "{\"id\":\"" + tenant + "\"}", 201).at("/adminKey/key").asText();
    }

    /** Registers the device; returns its token. */
    static String newDevice(Main.Started node, String adminKey, String deviceId) throws Exception {
        return call(node, "POST", "/api/v1/devices", adminKey, "{\"id\":\"" + deviceId + "\"}", 201).get("token").asText();
    }

    /** mosquitto_pub (QoS 1) as the device; returns its exit code (0 = published and acknowledged). */
    static int mosquittoPub(int port, String tenant, String device, String password, String topic, String message,
            String... extra) throws Exception {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("mosquitto_pub", "-h", "127.0.0.1", "-p",
                Integer.toString(port), "-q", "1", "-i", tenant + ":" + device, "-u", tenant + ":" + device, "-P", password,
                "-t", topic, "-m", message));
        cmd.addAll(java.util.List.of(extra));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("mosquitto_pub hung");
        }
        return p.exitValue();
    }

    static String metrics(Main.Started node) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.started().http().getPort() + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
    }
}

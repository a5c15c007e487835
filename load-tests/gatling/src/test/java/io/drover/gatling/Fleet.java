package io.drover.gatling;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Set-up shared by the simulations, done before any load: a tenant of its own (with the platform admin key
 * that {@code ./drover dev} writes) and some devices with their tokens. Plain JDK HTTP, outside the measurement.
 */
final class Fleet {

    /** {@code -Ddrover.api}: one base URL, or a comma-separated list (a cluster's nodes). */
    static final List<String> APIS = java.util.Arrays.stream(System.getProperty("drover.api", "http://127.0.0.1:8080")
            .split(",")).map(String::trim).filter(u -> !u.isEmpty()).toList();
    /** Where the fleet is set up: the first node. */
    static final String API = APIS.get(0);

    /** The API base URLs for Gatling; each virtual user takes one of them in turn. */
    static String[] apiBases() {
        return APIS.stream().map(u -> u + "/api/v1").toArray(String[]::new);
    }
    static final int SECONDS = Integer.getInteger("durationSeconds", 20);
    static final int USERS = Integer.getInteger("users", 20);

    final String tenant;
    final String key;
    final List<Map<String, Object>> devices = new ArrayList<>();

    Fleet(int deviceCount) {
        try {
            String admin = Files.readString(Path.of(System.getProperty("drover.adminKeyFile", "data/admin-api-key"))).trim();
            tenant = "gatling-" + Long.toString(System.currentTimeMillis(), 36);
            key = field(post("/api/v1/tenants", admin, "{\"id\":\"" + tenant + "\"}"), "key");
            for (int i = 0; i < deviceCount; i++) {
                String id = "g" + i;
                Map<String, Object> d = new HashMap<>();
                d.put("dev", id);
                d.put("token", field(post("/api/v1/devices", key, "{\"id\":\"" + id + "\"}"), "token"));
                d.put("deviceHeader", tenant + ":" + id);
                devices.add(d);
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot set up the fleet against " + API + ": " + e, e);
        }
    }

    private static String post(String path, String key, String body) throws Exception {
        for (int attempt = 0; ; attempt++) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(API + path))
                    .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                    .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 201) {
                return r.body();
            }
            if (r.statusCode() != 429 || attempt > 50) {
                throw new IllegalStateException(path + " → " + r.statusCode() + " " + r.body());
            }
            Thread.sleep(200);
        }
    }

    /** The first string field of that name (the tenant's admin key is the first "key"). */
    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]+)\"").matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("no " + name + " in " + json);
        }
        return m.group(1);
    }
}

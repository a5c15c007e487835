package io.drover.loadtest.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The simulated devices: for Drover a tenant of its own and its devices created over REST (each with
 * its token, shown once), kept in a file to reuse; for the Mosquitto baseline just ids.
 */
record Fleet(String tenant, String tenantKey, List<String> ids, List<String> tokens) {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static Fleet anonymous(int devices) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < devices; i++) {
            ids.add("sim-" + i);
        }
        return new Fleet("", "", ids, List.of());
    }

    /** Reuses {@code file} when it holds enough devices; else provisions a new tenant and writes it. */
    static Fleet provision(String api, String adminKey, int devices, String file) throws Exception {
        if (!file.isEmpty() && Files.exists(Path.of(file))) {
            Fleet f = read(Path.of(file));
            if (f.ids.size() >= devices) {
                System.err.printf("fleet: reusing %d devices of tenant %s from %s%n", devices, f.tenant, file);
                return new Fleet(f.tenant, f.tenantKey, f.ids.subList(0, devices), f.tokens.subList(0, devices));
            }
        }
        String tenant = "sim-" + Long.toString(System.currentTimeMillis(), 36);
        JsonNode t = call("POST", api + "/api/v1/tenants", adminKey, "{\"id\":\"" + tenant + "\"}", 201);
        String key = t.at("/adminKey/key").asText();
        String[] ids = new String[devices];
        String[] tokens = new String[devices];
        Semaphore window = new Semaphore(32);
        AtomicInteger done = new AtomicInteger();
        long t0 = System.nanoTime();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int i = 0; i < devices; i++) {
            int n = i;
            window.acquire();
            all.add(CompletableFuture.runAsync(() -> {
                try {
                    ids[n] = "d" + n;
                    tokens[n] = call("POST", api + "/api/v1/devices", key, "{\"id\":\"d" + n + "\",\"type\":\"sim\"}", 201)
                            .get("token").asText();
                    int d = done.incrementAndGet();
                    if (d % 5000 == 0) {
                        System.err.printf("fleet: %d devices created%n", d);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                } finally {
                    window.release();
                }
            }));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(30, TimeUnit.MINUTES);
        System.err.printf("fleet: tenant %s, %d devices created over REST in %.1f s%n", tenant, devices,
                (System.nanoTime() - t0) / 1e9);
        Fleet f = new Fleet(tenant, key, List.of(ids), List.of(tokens));
        if (!file.isEmpty()) {
            f.write(Path.of(file));
        }
        return f;
    }

    /** An HTTP call that waits out 429 (rate limited) answers; any other unexpected status fails. */
    static JsonNode call(String method, String url, String key, String body, int expect) throws Exception {
        for (int attempt = 0; ; attempt++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                    .header("Authorization", "Bearer " + key);
            if (body != null) {
                b.header("Content-Type", "application/json");
            }
            HttpResponse<String> r = HTTP.send(b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == expect) {
                return r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
            }
            if ((r.statusCode() == 429 || r.statusCode() == 503) && attempt < 100) {
                Thread.sleep(r.headers().firstValue("Retry-After").map(s -> Long.parseLong(s) * 1000).orElse(200L));
                continue;
            }
            throw new IllegalStateException(method + " " + url + " → " + r.statusCode() + " " + r.body());
        }
    }

    void write(Path file) throws Exception {
        ObjectNode root = JSON.createObjectNode();
        root.put("tenant", tenant);
        root.put("tenantKey", tenantKey);
        ArrayNode arr = root.putArray("devices");
        for (int i = 0; i < ids.size(); i++) {
            arr.addObject().put("id", ids.get(i)).put("token", tokens.get(i));
        }
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        JSON.writeValue(file.toFile(), root);
    }

    static Fleet read(Path file) throws Exception {
        JsonNode root = JSON.readTree(file.toFile());
        List<String> ids = new ArrayList<>();
        List<String> tokens = new ArrayList<>();
        root.get("devices").forEach(d -> {
            ids.add(d.get("id").asText());
            tokens.add(d.get("token").asText());
        });
        return new Fleet(root.get("tenant").asText(), root.get("tenantKey").asText(), ids, tokens);
    }
}

package io.drover.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.drover.http.testing.ApiTestServer;
import io.drover.http.testing.WsFrames;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The fuzz suite's HTTP and WebSocket part (issue 12): generated bad input on every route — methods, paths, query
 * parameters, headers, content types and bodies (mutated valid bodies, wrong types, truncated and invalid UTF-8
 * JSON, deep nesting, huge values) — and on the WebSocket. Pass: no 500 ever, every error a problem document with
 * a stable code, the service ready at the end. The seed is printed (and taken from {@code -Ddrover.fuzz.seed}), so
 * a failure can be replayed; counts by status and code are printed too.
 */
class FuzzApiTest {

    private static final int HTTP_CASES = Integer.getInteger("drover.fuzz.http-cases", 1500);
    private static final int WS_CASES = Integer.getInteger("drover.fuzz.ws-cases", 1000);
    private static ApiTestServer server;
    private static String admin;
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        server = new ApiTestServer(Map.of("drover.security.auth-failures.burst", "100000"));
        admin = server.newTenant("fz").adminKey();
        for (String d : new String[] {"d1", "d2"}) {
            server.call("POST", "/api/v1/devices", admin, "{\"id\":\"" + d + "\"}");
        }
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private static long seed() {
        long seed = Long.getLong("drover.fuzz.seed", System.nanoTime());
        System.out.println("FuzzApiTest seed " + seed + " (replay: -Ddrover.fuzz.seed=" + seed + ")");
        return seed;
    }

    // ------------------------------------------------------------------ generators

    private static final String[] IDS = {"d1", "d2", "x", "", "..", "%2e%2e", "%00", "a%2Fb", "é", "🙂", "a".repeat(300),
            "-", "1", "null", "%25", "d1;drop", "${x}", "<script>"};
    private static final String[] METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    private static final String[] TYPES = {"application/json", "application/merge-patch+json", "text/plain",
            "application/xml", "multipart/form-data; boundary=x", "application/json; charset=latin1", "garbage/", ""};
    private static final String[] VALUES = {"0", "-1", "1", "99999999999999999999", "1e309", "NaN", "true", "", " ",
            "null", "2026-13-45T99:99:99Z", "'", "\"", "%", "🙂", "a".repeat(5000), "avg", "raw", "desc", "asc"};

    private static String pick(Random r, String[] a) {
        return a[r.nextInt(a.length)];
    }

    private static String path(Random r) {
        String t = RouteTemplates.ALL.get(r.nextInt(RouteTemplates.ALL.size()));
        StringBuilder p = new StringBuilder();
        for (String seg : t.substring(1).split("/")) {
            p.append('/').append(seg.equals("{id}") ? pick(r, IDS) : r.nextInt(20) == 0 ? pick(r, IDS) : seg);
        }
        if (r.nextInt(10) == 0) {
            p.append('/').append(pick(r, IDS)); // one segment too many
        }
        if (r.nextBoolean()) {
            String[] params = {"limit", "cursor", "keys", "from", "to", "agg", "interval", "order", "at", "status",
                    "severity", "deviceId", "type", "label", "deviceIds", "access_token", "version", pick(r, IDS)};
            p.append('?');
            for (int i = 0, n = 1 + r.nextInt(4); i < n; i++) {
                p.append(i > 0 ? "&" : "").append(URLEncoder.encode(pick(r, params), StandardCharsets.UTF_8)).append('=')
                        .append(URLEncoder.encode(pick(r, VALUES), StandardCharsets.UTF_8));
            }
        }
        return p.toString().replace(" ", "%20");
    }

    /** A JSON value of random shape: objects with field names from the API and elsewhere, wrong types. */
    private static String json(Random r, int depth) {
        String[] fields = {"id", "name", "type", "labels", "attributes", "role", "expiresAt", "condition", "for",
                "actions", "trigger", "twoWay", "timeoutSeconds", "persistent", "ttlSeconds", "params", "rawDays",
                "rule", "from", "to", "deviceIds", "values", "ts", "clearCondition", "enabled", "severity", "x"};
        int k = depth > 6 ? r.nextInt(6) : r.nextInt(9);
        return switch (k) {
            case 0 -> "null";
            case 1 -> Integer.toString(r.nextInt(2001) - 1000);
            case 2 -> "\"" + pick(r, VALUES).replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
            case 3 -> r.nextBoolean() ? "true" : "false";
            case 4 -> "1.5e" + (r.nextInt(700) - 350);
            case 5 -> "\"" + "temperature > ".repeat(1 + r.nextInt(3)) + r.nextInt(100) + "\"";
            case 6, 7 -> {
                StringBuilder o = new StringBuilder("{");
                for (int i = 0, n = r.nextInt(5); i < n; i++) {
                    o.append(i > 0 ? "," : "").append('"').append(pick(r, fields)).append("\":").append(json(r, depth + 1));
                }
                yield o.append('}').toString();
            }
            default -> {
                StringBuilder a = new StringBuilder("[");
                for (int i = 0, n = r.nextInt(4); i < n; i++) {
                    a.append(i > 0 ? "," : "").append(json(r, depth + 1));
                }
                yield a.append(']').toString();
            }
        };
    }

    private static byte[] body(Random r) {
        switch (r.nextInt(10)) {
            case 0:
                return new byte[0];
            case 1: { // truncated
                String j = json(r, 0);
                return j.substring(0, r.nextInt(j.length() + 1)).getBytes(StandardCharsets.UTF_8);
            }
            case 2: { // invalid UTF-8 inside a string
                byte[] b = "{\"name\":\"..\"}".getBytes(StandardCharsets.UTF_8);
                b[9] = (byte) 0xC3;
                b[10] = (byte) 0x28;
                return b;
            }
            case 3:
                return ("[".repeat(2000) + "]".repeat(2000)).getBytes(StandardCharsets.UTF_8); // deep nesting
            case 4: {
                byte[] b = new byte[1 + r.nextInt(512)];
                r.nextBytes(b);
                return b;
            }
            case 5:
                return ("{\"name\":\"" + "x".repeat(100_000) + "\"}").getBytes(StandardCharsets.UTF_8); // over the limit
            default:
                return json(r, 0).getBytes(StandardCharsets.UTF_8);
        }
    }

    // ------------------------------------------------------------------ the suites

    @Test
    void everyRouteAnswersBadInputWithAProblemAndNever500() throws Exception {
        Random r = new Random(seed());
        Map<String, Integer> counts = new TreeMap<>();
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < HTTP_CASES; i++) {
            String method = pick(r, METHODS);
            String path = path(r);
            HttpRequest.Builder b;
            try {
                b = HttpRequest.newBuilder(URI.create(server.base() + path)).timeout(Duration.ofSeconds(20));
            } catch (IllegalArgumentException e) {
                continue; // a URI the client itself refuses to send
            }
            switch (r.nextInt(5)) {
                case 0 -> { }
                case 1 -> b.header("Authorization", ("Bearer " + pick(r, VALUES).trim() + "x").replaceAll("[^\\x20-\\x7e]", "?"));
                case 2 -> b.header("Authorization", pick(r, new String[] {"Basic abc", "Bearer", "bearer  " + admin, "x"}));
                default -> b.header("Authorization", "Bearer " + admin);
            }
            String type = pick(r, TYPES);
            if (!type.isEmpty()) {
                b.header("Content-Type", type);
            }
            if (r.nextInt(4) == 0) {
                b.header(pick(r, new String[] {"If-Match", "Idempotency-Key", "X-Device-Id", "X-Request-Id", "Accept"}),
                        pick(r, VALUES).isBlank() ? "x" : pick(r, VALUES).replaceAll("[^\\x21-\\x7e]", "?"));
            }
            byte[] body = method.equals("GET") || method.equals("DELETE") || method.equals("OPTIONS") ? new byte[0] : body(r);
            b.method(method, body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            HttpResponse<String> resp;
            try {
                resp = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
            } catch (java.io.IOException e) {
                // A server may answer early (401 before the body is read, 413 over the limit) and close while the
                // client is still sending the body; the JDK client then loses the answer. Only then is a broken
                // connection accepted here (counted); a request without a body must always get an answer.
                if (body.length == 0) {
                    throw e;
                }
                counts.merge("closed while the body was sent", 1, Integer::sum);
                continue;
            }
            int status = resp.statusCode();
            String code = "-";
            if (status >= 400) {
                String ct = resp.headers().firstValue("Content-Type").orElse("");
                JsonNode doc = null;
                try {
                    doc = ApiJson.MAPPER.readTree(resp.body());
                } catch (Exception e) {
                    // checked below
                }
                if (!ct.equals("application/problem+json") || doc == null || !doc.hasNonNull("code")
                        || doc.get("status").asInt() != status) {
                    bad.add(method + " " + path + " → " + status + " " + ct + " " + resp.body());
                } else {
                    code = doc.get("code").asText();
                    if (resp.body().contains("java.") || resp.body().contains("at io.drover")) {
                        bad.add(method + " " + path + " → Java internals in " + resp.body());
                    }
                }
            }
            if (status == 500) {
                bad.add(method + " " + path + " → 500 " + resp.body());
            }
            counts.merge(status + " " + code, 1, Integer::sum);
        }
        System.out.println("FuzzApiTest HTTP: " + HTTP_CASES + " cases, by status and code: " + counts);
        assertEquals(List.of(), bad.subList(0, Math.min(bad.size(), 20)), bad.size() + " answers broke the rules");
        assertEquals(200, server.call("GET", "/health/ready", null, null).status(), "ready after the fuzz");
        assertTrue(counts.keySet().stream().anyMatch(k -> k.startsWith("2")), "some cases were valid: " + counts);
    }

    @Test
    void theWebSocketAnswersBadFramesAndKeepsGoing() throws Exception {
        Random r = new Random(seed());
        Map<String, Integer> codes = new TreeMap<>();
        int sockets = 0;
        int sent = 0;
        while (sent < WS_CASES) {
            WsFrames frames = new WsFrames(true);
            WebSocket ws = CLIENT.newWebSocketBuilder()
                    .buildAsync(URI.create(server.base().replace("http", "ws") + "/api/v1/ws?access_token=" + admin), frames)
                    .get(10, TimeUnit.SECONDS);
            sockets++;
            for (int i = 0; i < 100 && sent < WS_CASES && !frames.closed.isDone(); i++, sent++) {
                int kind = r.nextInt(10);
                if (kind == 0) {
                    byte[] b = new byte[1 + r.nextInt(64)];
                    r.nextBytes(b);
                    ws.sendBinary(ByteBuffer.wrap(b), true).get(5, TimeUnit.SECONDS);
                } else if (kind == 1) {
                    ws.sendText("x".repeat(70_000), true).get(5, TimeUnit.SECONDS); // over max-message-size
                } else {
                    String[] types = {"subscribe", "unsubscribe", "ping", "x", ""};
                    String msg = kind < 5 ? json(r, 0)
                            : "{\"type\":\"" + pick(r, types) + "\",\"deviceIds\":" + json(r, 1) + ",\"keys\":"
                                    + json(r, 1) + (r.nextBoolean() ? ",\"alarms\":" + json(r, 2) : "") + ",\"id\":"
                                    + json(r, 3) + "}";
                    ws.sendText(msg, true).get(5, TimeUnit.SECONDS);
                }
            }
            Thread.sleep(200);
            for (JsonNode f : frames.frames) {
                String t = f.path("type").asText();
                codes.merge(t.equals("error") ? "error " + f.path("code").asText() : t, 1, Integer::sum);
            }
            ws.abort();
        }
        System.out.println("FuzzApiTest WebSocket: " + sent + " frames over " + sockets + " sockets, answers: " + codes);
        assertTrue(codes.keySet().stream().anyMatch(k -> k.startsWith("error ")), "bad frames get error frames: " + codes);
        assertTrue(codes.keySet().stream().noneMatch(k -> k.equals("error internal-error")), codes.toString());
        assertEquals(200, server.call("GET", "/health/ready", null, null).status(), "ready after the fuzz");
    }

}

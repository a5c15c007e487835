package io.drover.http;

import static io.drover.http.testing.ApiTestServer.problem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.drover.http.testing.ApiTestServer;
import io.drover.http.testing.ApiTestServer.Reply;
import io.drover.persistence.testing.Eventually;
import io.drover.telemetry.rules.Webhooks;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The rules and alarms API over a real port, with the real engine behind it: the hub's stored output, the sharded rule
 * owners, alarm entities and the alarm list (in-memory journal and stores). Telemetry comes in over the device API.
 */
class RulesApiTest {

    private static ApiTestServer server;

    private String tenant;
    private String admin;

    @BeforeAll
    static void start() throws Exception {
        server = new ApiTestServer(Map.of("drover.telemetry.rules.webhook.min-backoff", "50ms",
                "drover.telemetry.rules.webhook.max-backoff", "200ms", "drover.telemetry.rules.webhook.attempts", "3"));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @BeforeEach
    void newTenant() throws Exception {
        ApiTestServer.TestTenant t = server.newTenant("r");
        tenant = t.id();
        admin = t.adminKey();
    }

    private Reply call(String method, String path, String body) throws Exception {
        return server.call(method, path, admin, body);
    }

    private String device(String id) throws Exception {
        Reply r = call("POST", "/api/v1/devices", "{\"id\":\"" + id + "\",\"name\":\"n\",\"type\":\"boiler\"}");
        assertEquals(201, r.status(), r.raw().body());
        return r.body().get("token").asText();
    }

    private void send(String id, String token, long ts, String values) throws Exception {
        Reply r = server.call("POST", "/api/v1/device-api/telemetry", token, "{\"ts\":" + ts + ",\"values\":" + values + "}",
                "X-Device-Id", tenant + ":" + id);
        assertEquals(200, r.status(), r.raw().body());
    }

    private Reply rule(String body) throws Exception {
        return call("POST", "/api/v1/rules", body);
    }

    private JsonNode alarms(String query) throws Exception {
        Reply r = call("GET", "/api/v1/alarms" + query, null);
        assertEquals(200, r.status(), r.raw().body());
        return r.body().get("items");
    }

    @Test
    void rulesAreVersionedAndRolledBack() throws Exception {
        Reply created = rule("""
                {"name":"overheat","trigger":{"deviceIds":["r1"]},"condition":"temperature > 80","for":"3s",
                 "actions":[{"type":"alarm","alarmType":"overheat","severity":"major"}]}""");
        assertEquals(201, created.status(), created.raw().body());
        String id = created.body().get("id").asText();
        assertEquals(1, created.body().get("version").asInt());
        assertEquals("3s", created.body().get("for").asText());
        assertEquals("/api/v1/rules/" + id, created.header("Location"));
        Reply updated = call("PUT", "/api/v1/rules/" + id, """
                {"name":"overheat","condition":"temperature > 90","actions":[{"type":"alarm","alarmType":"overheat"}]}""");
        assertEquals(200, updated.status(), updated.raw().body());
        assertEquals(2, updated.body().get("version").asInt());
        assertEquals(3, call("POST", "/api/v1/rules/" + id + "/disable", null).body().get("version").asInt());
        assertFalse(call("GET", "/api/v1/rules/" + id, null).body().get("enabled").asBoolean());
        Reply back = call("POST", "/api/v1/rules/" + id + "/rollback?version=1", null);
        assertEquals(4, back.body().get("version").asInt());
        assertEquals("temperature > 80", back.body().get("condition").asText());
        JsonNode versions = call("GET", "/api/v1/rules/" + id + "/versions", null).body().get("items");
        assertEquals(4, versions.size());
        assertEquals("rollback:1", versions.get(3).get("change").asText());
        assertEquals("temperature > 90", versions.get(1).at("/rule/condition").asText(), "old versions stay readable");
        problem(call("POST", "/api/v1/rules/" + id + "/rollback?version=9", null), 404, "rule-version-not-found");
        assertEquals(1, call("GET", "/api/v1/rules", null).body().get("items").size());
        assertEquals(200, call("DELETE", "/api/v1/rules/" + id, null).status());
        problem(call("GET", "/api/v1/rules/" + id, null), 404, "rule-not-found");
        assertEquals(4, call("GET", "/api/v1/rule-templates", null).body().get("items").size());
    }

    @Test
    void anInvalidRuleIsA400WithFieldAndPosition() throws Exception {
        Reply bad = rule("""
                {"name":"x","condition":"temperature >> 80","actions":[{"type":"alarm","alarmType":"a"}]}""");
        problem(bad, 400, "invalid-rule");
        assertEquals("condition", bad.body().get("field").asText());
        assertEquals(13, bad.body().get("position").asInt());
        assertTrue(bad.body().get("detail").asText().contains("expected"), bad.raw().body());
        problem(rule("{\"name\":\"x\",\"condition\":\"t > 1\",\"for\":\"soon\",\"actions\":[{\"type\":\"alarm\",\"alarmType\":\"a\"}]}"),
                400, "invalid-rule");
        problem(rule("{\"name\":\"x\",\"condition\":\"t > 1\",\"actions\":[]}"), 400, "invalid-rule");
        problem(rule("{\"name\":\"x\",\"condition\":\"t > 1\",\"actions\":[{\"type\":\"teleport\"}]}"), 400, "invalid-rule");
        problem(rule("{\"name\":\"x\",\"condition\":\"t > 1\",\"actions\":[{\"type\":\"webhook\",\"url\":\"ftp://x\","
                + "\"secret\":\"0123456789abcdef\"}]}"), 400, "invalid-rule");
        problem(rule("{\"name\":\"x\",\"oops\":1}"), 400, "unknown-field");
    }

    @Test
    void aForConditionRaisesOneAlarmThatClearsWhenTheConditionStops() throws Exception {
        String token = device("r1");
        String ruleId = rule("""
                {"name":"overheat","trigger":{"deviceIds":["r1"]},"condition":"temperature > 80","for":"1s",
                 "actions":[{"type":"alarm","alarmType":"overheat","severity":"major"}]}""").body().get("id").asText();
        long t0 = System.currentTimeMillis();
        send("r1", token, t0, "{\"temperature\":85}");
        send("r1", token, t0 + 300, "{\"temperature\":86}");
        assertEquals(0, alarms("?status=active").size(), "not before the second has passed");
        JsonNode active = Eventually.await("the overheat alarm", Duration.ofSeconds(10), () -> alarms("?status=active"),
                a -> a.size() == 1);
        JsonNode a = active.get(0);
        assertEquals("overheat", a.get("type").asText());
        assertEquals("r1", a.get("deviceId").asText());
        assertEquals("major", a.get("severity").asText());
        assertEquals(ruleId, a.get("ruleId").asText());
        assertEquals(1, a.get("ruleVersion").asInt());
        assertEquals(Instant.ofEpochMilli(t0 + 1000), Instant.parse(a.get("firstSeenAt").asText()), "at the deadline");
        send("r1", token, t0 + 1500, "{\"temperature\":90}");
        send("r1", token, t0 + 1600, "{\"temperature\":70}");
        JsonNode cleared = Eventually.await("the alarm cleared", Duration.ofSeconds(10), () -> alarms("?status=cleared"),
                x -> x.size() == 1);
        assertEquals("rule:" + ruleId, cleared.get(0).get("clearedBy").asText());
        assertEquals(0, alarms("?status=active").size());
        assertEquals(1, cleared.get(0).get("occurrences").asInt(), "one alarm, not one per message");
        String alarmId = cleared.get(0).get("id").asText();
        Reply acked = call("POST", "/api/v1/alarms/" + alarmId + "/ack", null);
        assertEquals(200, acked.status(), acked.raw().body());
        assertTrue(acked.body().get("acknowledged").asBoolean());
        assertTrue(acked.body().get("ackedBy").asText().startsWith("key:"));
        assertEquals("cleared", call("GET", "/api/v1/alarms/" + alarmId, null).body().get("status").asText());
        problem(call("GET", "/api/v1/alarms/r1:overheat:7", null), 404, "alarm-not-found");
        problem(call("GET", "/api/v1/alarms?status=open", null), 400, "invalid-field");
    }

    @Test
    void hysteresisAndManualClearAndTenantIsolation() throws Exception {
        String token = device("h1");
        rule("""
                {"name":"band","condition":"temperature > 80","clearCondition":"temperature < 75",
                 "actions":[{"type":"alarm","alarmType":"hot","severity":"critical"}]}""");
        long t0 = System.currentTimeMillis();
        send("h1", token, t0, "{\"temperature\":81}");
        Eventually.await("raised", Duration.ofSeconds(10), () -> alarms("?status=active&severity=critical"),
                a -> a.size() == 1);
        send("h1", token, t0 + 100, "{\"temperature\":77}");
        send("h1", token, t0 + 200, "{\"temperature\":76}");
        JsonNode still = alarms("?status=active&type=hot");
        assertEquals(1, still.size(), "77 and 76 are above the clear threshold");
        send("h1", token, t0 + 300, "{\"temperature\":74}");
        Eventually.await("cleared below 75", Duration.ofSeconds(10), () -> alarms("?status=active"), a -> a.isEmpty());

        ApiTestServer.TestTenant other = server.newTenant("o");
        assertEquals(0, server.call("GET", "/api/v1/alarms", other.adminKey(), null).body().get("items").size());
        assertEquals(0, server.call("GET", "/api/v1/rules", other.adminKey(), null).body().get("items").size());
        String alarmId = alarms("").get(0).get("id").asText();
        problem(server.call("POST", "/api/v1/alarms/" + alarmId + "/ack", other.adminKey(), null), 404, "alarm-not-found");
    }

    @Test
    void aWebhookThatFailsTwiceIsRetriedAndSigned() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        List<String[]> delivered = new CopyOnWriteArrayList<>();
        HttpServer hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hook.createContext("/hook", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            int n = calls.incrementAndGet();
            int status = n <= 2 ? 503 : 204;
            if (status == 204) {
                delivered.add(new String[] {body, ex.getRequestHeaders().getFirst("X-Drover-Signature"),
                    ex.getRequestHeaders().getFirst("X-Drover-Timestamp")});
            }
            ex.sendResponseHeaders(status, -1);
            ex.close();
        });
        hook.start();
        try {
            String token = device("w1");
            String secret = "s3cret-s3cret-s3cret";
            String url = "http://127.0.0.1:" + hook.getAddress().getPort() + "/hook";
            String ruleId = rule("{\"name\":\"hook\",\"condition\":\"t > 1\",\"actions\":[{\"type\":\"webhook\",\"url\":\""
                    + url + "\",\"secret\":\"" + secret + "\"}]}").body().get("id").asText();
            assertEquals("********", call("GET", "/api/v1/rules/" + ruleId, null).body().at("/actions/0/secret").asText(),
                    "the secret is not shown again");
            send("w1", token, System.currentTimeMillis(), "{\"t\":5}");
            Eventually.await("the third attempt delivered", Duration.ofSeconds(10), delivered::size, n -> n == 1);
            assertEquals(3, calls.get());
            String[] d = delivered.get(0);
            assertEquals("sha256=" + Webhooks.sign(secret, d[2] + "." + d[0]), d[1], "signature over timestamp.body");
            JsonNode body = io.drover.http.ApiJson.MAPPER.readTree(d[0]);
            assertEquals("raised", body.get("event").asText());
            assertEquals(ruleId, body.get("ruleId").asText());
            assertEquals(5.0, body.at("/values/t").asDouble());
            assertEquals(0, call("GET", "/api/v1/rules/" + ruleId + "/errors", null).body().get("items").size());

            // an endpoint that never answers 2xx: one error event with the dead letter after the retries
            String bad = "http://127.0.0.1:" + hook.getAddress().getPort() + "/missing";
            String failing = rule("{\"name\":\"bad hook\",\"condition\":\"t > 1\",\"actions\":[{\"type\":\"webhook\",\"url\":\""
                    + bad + "\",\"secret\":\"" + secret + "\"}]}").body().get("id").asText();
            send("w1", token, System.currentTimeMillis() + 1, "{\"t\":0}");
            send("w1", token, System.currentTimeMillis() + 2, "{\"t\":7}");
            JsonNode errors = Eventually.await("the failed webhook's error", Duration.ofSeconds(10),
                    () -> call("GET", "/api/v1/rules/" + failing + "/errors", null).body().get("items"),
                    e -> e.size() == 1);
            assertEquals("webhook", errors.get(0).get("action").asText());
            assertEquals(1, errors.get(0).get("ruleVersion").asInt());
            assertTrue(errors.get(0).get("failures").get(0).asText().contains("HTTP 404"), errors.toString());
            assertTrue(errors.get(0).get("deadLetter").asText().contains("\"ruleId\":\"" + failing + "\""));
            assertEquals(7.0, errors.get(0).at("/input/values/t").asDouble());
        } finally {
            hook.stop(0);
        }
    }

    @Test
    void theBacktestGivesWhatTheLiveEngineGave() throws Exception {
        String token = device("b1");
        String condition = "avg(t, 2s) > 50";
        long t0 = System.currentTimeMillis() - 60_000;
        int[] values = {10, 90, 95, 20, 10, 80, 90, 99, 5, 0};
        // the same rule live …
        rule("{\"name\":\"live\",\"condition\":\"" + condition + "\",\"for\":\"1s\",\"actions\":[{\"type\":\"alarm\","
                + "\"alarmType\":\"avg-high\"}]}");
        for (int i = 0; i < values.length; i++) {
            send("b1", token, t0 + i * 700L, "{\"t\":" + values[i] + "}");
        }
        JsonNode live = Eventually.await("live alarms", Duration.ofSeconds(10), () -> alarms("?deviceId=b1"),
                a -> a.size() == 2 && a.get(0).get("status").asText().equals("cleared"));
        // … and over the stored history
        Reply test = call("POST", "/api/v1/rules/test", "{\"rule\":{\"name\":\"t\",\"condition\":\"" + condition
                + "\",\"for\":\"1s\",\"actions\":[{\"type\":\"alarm\",\"alarmType\":\"avg-high\"}]},\"from\":\""
                + Instant.ofEpochMilli(t0 - 1000) + "\",\"to\":\"" + Instant.ofEpochMilli(t0 + 20_000) + "\","
                + "\"deviceIds\":[\"b1\"]}");
        assertEquals(200, test.status(), test.raw().body());
        JsonNode bt = test.body().get("alarms");
        assertEquals(live.size(), bt.size(), test.raw().body());
        for (int i = 0; i < bt.size(); i++) {
            JsonNode l = live.get(i);
            JsonNode b = bt.get(i);
            assertEquals(Instant.parse(l.get("firstSeenAt").asText()), Instant.parse(b.get("raisedAt").asText()));
            if (l.hasNonNull("clearedAt")) {
                assertEquals(Instant.parse(l.get("clearedAt").asText()), Instant.parse(b.get("clearedAt").asText()));
            }
        }
        assertEquals(values.length, test.body().get("messages").asInt());
        problem(call("POST", "/api/v1/rules/test", "{\"rule\":{\"name\":\"t\",\"condition\":\"t >\",\"actions\":"
                + "[{\"type\":\"log\"}]},\"from\":\"2026-01-01T00:00:00Z\",\"to\":\"2026-01-02T00:00:00Z\"}"), 400,
                "invalid-rule");
        problem(call("POST", "/api/v1/rules/test", "{\"rule\":{\"name\":\"t\",\"condition\":\"t > 1\",\"actions\":"
                + "[{\"type\":\"log\"}]},\"from\":\"2026-01-01T00:00:00Z\",\"to\":\"2026-03-01T00:00:00Z\"}"), 400,
                "invalid-field");
    }
}

package io.drover.http;

import static io.drover.http.testing.ApiTestServer.problem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.drover.http.testing.ApiTestServer;
import io.drover.http.testing.ApiTestServer.Reply;
import io.drover.http.testing.WsFrames;
import io.drover.persistence.TelemetrySample;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Telemetry queries, latest values, retention and the live WebSocket, over a real port. */
class TelemetryRoutesTest {

    private static ApiTestServer server;

    private String tenant;
    private String admin;

    @BeforeAll
    static void start() throws Exception {
        server = new ApiTestServer(Map.of("drover.http.live.buffer-size", 16));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @BeforeEach
    void newTenant() throws Exception {
        ApiTestServer.TestTenant t = server.newTenant("tt");
        tenant = t.id();
        admin = t.adminKey();
    }

    private Reply get(String path) throws Exception {
        return server.call("GET", path, admin, null);
    }

    private void device(String id, String label) throws Exception {
        Reply r = server.call("POST", "/api/v1/devices", admin, "{\"id\":\"" + id + "\",\"labels\":[\"" + label + "\"]}");
        assertEquals(201, r.status(), r.raw().body());
    }

    private void store(List<TelemetrySample> samples) throws Exception {
        server.hub.submit(samples).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }


    @Test
    void rawPagesAggregatesAndLatest() throws Exception {
        device("m1", "floor-1");
        device("m2", "floor-1");
        Instant base = Instant.now().truncatedTo(ChronoUnit.HOURS).minus(Duration.ofHours(3));
        List<TelemetrySample> samples = new ArrayList<>();
        for (int i = 0; i < 180; i++) { // one a minute for 3 h, a = i, b every 10th minute as text
            Instant ts = base.plus(Duration.ofMinutes(i));
            samples.add(TelemetrySample.number(tenant, "m1", "a", ts, i, ts));
            if (i % 10 == 0) {
                samples.add(new TelemetrySample(tenant, "m1", "b", ts, null, "s" + i, null, null, ts));
            }
        }
        store(samples);
        store(List.of(TelemetrySample.number(tenant, "m2", "a", base, 42, base)));
        String range = "&from=" + base.toEpochMilli() + "&to=" + base.plus(Duration.ofHours(3)).toEpochMilli();

        Set<String> seen = new HashSet<>();
        String cursor = null;
        int pages = 0;
        do {
            Reply r = get("/api/v1/devices/m1/telemetry?keys=a,b&limit=25&order=asc" + range
                    + (cursor == null ? "" : "&cursor=" + cursor));
            assertEquals(200, r.status(), r.raw().body());
            for (String k : List.of("a", "b")) {
                for (JsonNode p : r.body().at("/series/" + k)) {
                    assertTrue(seen.add(k + p.get("ts").asLong()), "no repeats");
                }
            }
            cursor = r.body().has("nextCursor") ? r.body().get("nextCursor").asText() : null;
            pages++;
        } while (cursor != null);
        assertEquals(198, seen.size(), "every sample, no gaps");
        assertEquals(8, pages);
        Reply all = get("/api/v1/devices/m1/telemetry?from=" + base.toEpochMilli());
        assertEquals("s170", all.body().at("/series/b/0/value").asText(), "no keys: every key, newest first");

        Reply avg = get("/api/v1/devices/m1/telemetry?keys=a&agg=avg&interval=1h&order=asc" + range);
        assertEquals(200, avg.status(), avg.raw().body());
        assertEquals("rollup-1h", avg.body().get("source").asText());
        JsonNode hours = avg.body().at("/series/a");
        assertEquals(3, hours.size());
        assertEquals(29.5, hours.get(0).get("value").asDouble(), 1e-9, "avg of 0..59");
        assertEquals(60, hours.get(0).get("count").asInt());
        Reply max5 = get("/api/v1/devices/m1/telemetry?keys=a&agg=max&interval=5m" + range);
        assertEquals("rollup-1m", max5.body().get("source").asText());
        assertEquals(36, max5.body().at("/series/a").size());
        assertEquals(179.0, max5.body().at("/series/a/0/value").asDouble(), "desc: newest interval first");
        assertEquals(180, get("/api/v1/devices/m1/telemetry?keys=a&agg=count&interval=1d" + range)
                .body().at("/series/a").findValues("value").stream().mapToInt(JsonNode::asInt).sum());

        Reply latest = get("/api/v1/devices/m1/telemetry/latest");
        assertEquals(179.0, latest.body().at("/values/a/value").asDouble());
        assertEquals("s170", latest.body().at("/values/b/value").asText());
        Reply many = get("/api/v1/telemetry/latest?deviceIds=m1,m2&keys=a");
        assertEquals(2, many.body().get("devices").size());
        assertEquals(42.0, many.body().at("/devices/1/values/a/value").asDouble());
        assertFalse(many.body().at("/devices/0/values").has("b"), "only the keys asked for");
        Reply byLabel = get("/api/v1/telemetry/latest?label=floor-1&limit=1");
        assertEquals(1, byLabel.body().get("devices").size());
        assertNotNull(byLabel.body().get("nextCursor"), "label pages have a cursor");
    }

    @Test
    void badQueriesGetStableCodes() throws Exception {
        device("q1", "x");
        String now = Long.toString(Instant.now().toEpochMilli());
        problem(get("/api/v1/devices/q1/telemetry?from=" + now + "&to=" + now), 400, "invalid-range");
        problem(get("/api/v1/devices/q1/telemetry?from=yesterday"), 400, "invalid-field");
        problem(get("/api/v1/devices/q1/telemetry?agg=median&interval=1h"), 400, "unknown-aggregation");
        problem(get("/api/v1/devices/q1/telemetry?agg=avg&interval=7m"), 400, "unknown-interval");
        problem(get("/api/v1/devices/q1/telemetry?agg=avg"), 400, "missing-interval");
        problem(get("/api/v1/devices/q1/telemetry?agg=avg&interval=1m&from=0&to=" + now), 400, "too-many-points");
        problem(get("/api/v1/devices/q1/telemetry?limit=20000"), 400, "too-many-points");
        problem(get("/api/v1/devices/q1/telemetry?from=0"), 400, "range-too-large");
        problem(get("/api/v1/devices/q1/telemetry?order=up"), 400, "invalid-field");
        StringBuilder keys = new StringBuilder("k0");
        for (int i = 1; i <= 20; i++) {
            keys.append(",k").append(i);
        }
        problem(get("/api/v1/devices/q1/telemetry?keys=" + keys), 400, "too-many-keys");
        problem(get("/api/v1/devices/q1/telemetry?keys=a%20b"), 400, "invalid-field");
        problem(get("/api/v1/devices/q1/telemetry?keys=a&cursor=bm9wZQ"), 400, "invalid-cursor");
        problem(get("/api/v1/devices/nope/telemetry"), 404, "device-not-found");
        problem(get("/api/v1/devices/nope/telemetry/latest"), 404, "device-not-found");
        problem(get("/api/v1/telemetry/latest"), 400, "invalid-parameter");
        problem(get("/api/v1/telemetry/latest?deviceIds=a&label=b"), 400, "invalid-parameter");
    }

    @Test
    void retentionPerTenant() throws Exception {
        Reply r = get("/api/v1/tenants/" + tenant + "/retention");
        assertEquals(200, r.status(), r.raw().body());
        assertEquals(30, r.body().at("/effective/rawDays").asInt());
        assertEquals(730, r.body().at("/effective/rollup1hDays").asInt());
        Reply set = server.call("PUT", "/api/v1/tenants/" + tenant + "/retention", admin, "{\"rawDays\":7}");
        assertEquals(200, set.status(), set.raw().body());
        assertEquals(7, get("/api/v1/tenants/" + tenant + "/retention").body().at("/effective/rawDays").asInt());
        assertEquals(7, get("/api/v1/tenants/" + tenant + "/retention").body().at("/overrides/rawDays").asInt());
        problem(server.call("PUT", "/api/v1/tenants/" + tenant + "/retention", admin, "{\"rawDays\":0}"), 400,
                "invalid-retention");
        problem(server.call("PUT", "/api/v1/tenants/" + tenant + "/retention", admin, "{\"days\":3}"), 400, "unknown-field");
        problem(get("/api/v1/tenants/someone-else/retention"), 404, "tenant-not-found");
        String viewer = server.call("POST", "/api/v1/api-keys", admin, "{\"name\":\"v\",\"role\":\"viewer\"}").body()
                .get("key").asText();
        problem(server.call("PUT", "/api/v1/tenants/" + tenant + "/retention", viewer, "{\"rawDays\":3}"), 403, "forbidden");
    }

    private WebSocket connect(WsFrames frames) throws Exception {
        return HttpClient.newHttpClient().newWebSocketBuilder()
                .buildAsync(URI.create(server.base().replace("http", "ws") + "/api/v1/ws?access_token=" + admin), frames)
                .get(10, TimeUnit.SECONDS);
    }

    @Test
    void liveSubscriptionsWithErrorsThatKeepTheSocket() throws Exception {
        device("w1", "x");
        WsFrames frames = new WsFrames(true);
        WebSocket ws = connect(frames);
        ws.sendText("{not json", true).get();
        assertEquals("malformed-message", frames.next("error").get("code").asText());
        ws.sendText("{\"type\":\"subscribe\",\"id\":\"r0\",\"deviceIds\":[\"nope\"]}", true).get();
        JsonNode notFound = frames.next("error");
        assertEquals("device-not-found", notFound.get("code").asText());
        assertEquals("r0", notFound.get("id").asText());
        ws.sendText("{\"type\":\"dance\"}", true).get();
        assertEquals("unknown-type", frames.next("error").get("code").asText());
        ws.sendText("{\"type\":\"subscribe\",\"id\":\"r1\",\"deviceIds\":[\"w1\"],\"keys\":[\"a\"]}", true).get();
        assertEquals("r1", frames.next("subscribed").get("id").asText(), "the socket survived the bad messages");
        Instant ts = Instant.now();
        store(List.of(TelemetrySample.number(tenant, "w1", "a", ts, 7, ts), TelemetrySample.number(tenant, "w1", "b", ts, 8, ts)));
        JsonNode t = frames.next("telemetry");
        assertEquals("w1", t.get("deviceId").asText());
        assertEquals(7.0, t.at("/series/a/0/value").asDouble());
        assertFalse(t.get("series").has("b"), "only the subscribed keys");
        ws.sendText("{\"type\":\"unsubscribe\",\"id\":\"r2\",\"deviceIds\":[\"w1\"]}", true).get();
        assertEquals("r2", frames.next("unsubscribed").get("id").asText());
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get();
    }

    @Test
    void aSocketWithoutAKeyIsRefused() throws Exception {
        CompletableFuture<WebSocket> ws = HttpClient.newHttpClient().newWebSocketBuilder()
                .buildAsync(URI.create(server.base().replace("http", "ws") + "/api/v1/ws"), new WsFrames(true));
        try {
            ws.get(10, TimeUnit.SECONDS);
            throw new AssertionError("connected without an API key");
        } catch (java.util.concurrent.ExecutionException e) {
            assertTrue(e.getCause() instanceof java.net.http.WebSocketHandshakeException, e.toString());
            assertEquals(401, ((java.net.http.WebSocketHandshakeException) e.getCause()).getResponse().statusCode());
        }
    }

    @Test
    void aSlowConsumerIsClosedWithAReason() throws Exception {
        device("s1", "x");
        WsFrames frames = new WsFrames(false); // reads one frame, then nothing until told
        WebSocket ws = connect(frames);
        ws.sendText("{\"type\":\"subscribe\",\"deviceIds\":[\"s1\"]}", true).get();
        String big = "x".repeat(1000);
        Instant t0 = Instant.now();
        for (int i = 0; i < 20_000 && !frames.closed.isDone(); i += 100) {
            List<TelemetrySample> batch = new ArrayList<>();
            for (int j = 0; j < 100; j++) {
                Instant ts = t0.plusMillis(i + j);
                batch.add(new TelemetrySample(tenant, "s1", "blob", ts, null, big, null, null, ts));
            }
            for (TelemetrySample s : batch) {
                server.hub.submit(List.of(s));
            }
            store(List.of(batch.get(0)));
        }
        ws.request(Long.MAX_VALUE);
        JsonNode err = frames.next("error");
        assertEquals("slow-consumer", err.get("code").asText());
        assertEquals(1000, frames.closed.get(10, TimeUnit.SECONDS).intValue(), "then the server closes the socket");
    }
}

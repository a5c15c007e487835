package io.drover.http;

import static io.drover.http.testing.ApiTestServer.problem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.drover.device.Credentials;
import io.drover.http.testing.ApiTestServer;
import io.drover.http.testing.ApiTestServer.Reply;
import io.drover.persistence.ApiKey;
import io.drover.persistence.testing.Eventually;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every endpoint and every error of REST API v1, over a real HTTP port. */
class ApiRoutesTest {

    private static ApiTestServer server;

    private String tenant;
    private String admin;

    @BeforeAll
    static void start() throws Exception {
        server = new ApiTestServer(Map.of("drover.device.shadow-max-size", "1 KiB", "drover.http.max-body-size", "8 KiB"));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    /** Each test works in a tenant of its own. */
    @BeforeEach
    void newTenant() throws Exception {
        ApiTestServer.TestTenant t = server.newTenant("t");
        tenant = t.id();
        admin = t.adminKey();
    }

    private Reply call(String method, String path, String body, String... headers) throws Exception {
        return server.call(method, path, admin, body, headers);
    }

    private Reply createDevice(String id) throws Exception {
        Reply r = call("POST", "/api/v1/devices", "{\"id\":\"" + id + "\",\"name\":\"n-" + id + "\",\"type\":\"meter\",\"labels\":[\"x\"]}");
        assertEquals(201, r.status(), r.raw().body());
        return r;
    }

    private String key(String role) throws Exception {
        Reply r = call("POST", "/api/v1/api-keys", "{\"name\":\"k\",\"role\":\"" + role + "\"}");
        assertEquals(201, r.status(), r.raw().body());
        return r.body().get("key").asText();
    }

    // ---------------------------------------------------------------- health, metrics

    @Test
    void healthAndMetricsNeedNoKey() throws Exception {
        Reply alive = server.call("GET", "/health/alive", null, null);
        assertEquals(200, alive.status());
        Reply ready = server.call("GET", "/health/ready", null, null);
        assertEquals(200, ready.status());
        assertEquals("ready", ready.body().get("status").asText());
        assertTrue(ready.body().at("/checks/cassandra").asBoolean());
        server.call("GET", "/api/v1/devices", admin, null);
        Reply metrics = server.call("GET", "/metrics", null, null);
        assertEquals(200, metrics.status());
        assertTrue(metrics.raw().body().contains("drover_http_requests_total{method=\"GET\",route=\"/api/v1/devices\",status=\"200\"}"),
                metrics.raw().body());
        assertTrue(metrics.raw().body().contains("drover_twin_commands_total"));
        assertTrue(metrics.raw().body().contains("drover_twin_command_duration_seconds_count{command=\"Register\"}"),
                "twin asks are timed by command");
    }

    @Test
    void metricsAreLabelledByRouteTemplateWhateverThePath() throws Exception {
        createDevice("m1");
        Reply cmd = call("POST", "/api/v1/devices/m1/commands", "{\"name\":\"reboot\"}");
        String commandId = cmd.body().path("id").asText("no-id");
        call("GET", "/api/v1/devices/m1/commands/" + commandId, null);
        java.util.Random r = new java.util.Random(42);
        for (int i = 0; i < 300; i++) {
            String junk = Long.toHexString(r.nextLong());
            server.call("GET", "/api/v1/" + junk, null, null); // unauthenticated: 401
            server.call("GET", "/api/v1/devices/" + junk + "/" + junk, admin, null);
            server.call("GET", "/" + junk, null, null);
        }
        String body = server.call("GET", "/metrics", null, null).raw().body();
        Set<String> routes = new HashSet<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("drover_http_requests_total\\{[^}]*route=\"([^\"]*)\"")
                .matcher(body);
        while (m.find()) {
            routes.add(m.group(1));
        }
        Set<String> allowed = new HashSet<>(RouteTemplates.ALL);
        allowed.add(RouteTemplates.OTHER);
        assertTrue(allowed.containsAll(routes), "labels outside the fixed set: " + routes);
        assertTrue(routes.contains("/api/v1/devices/{id}/commands/{id}"), routes.toString());
        assertTrue(routes.contains(RouteTemplates.OTHER), routes.toString());
        assertFalse(body.contains(commandId), "a command id in /metrics");
        assertFalse(body.contains("m1"), "a device id in /metrics");
    }

    @Test
    void everyRouteTemplateIsARouteTheServiceAnswers() throws Exception {
        for (String t : RouteTemplates.ALL) {
            String path = t.replace("{id}", "x");
            boolean answered = false;
            for (String method : new String[] {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
                Reply r = server.call(method, path, admin, method.equals("GET") || method.equals("DELETE") ? null : "{}");
                answered |= !"not-found".equals(r.code());
            }
            assertTrue(answered, "no route answers " + t);
        }
        assertEquals("not-found", server.call("GET", "/api/v1/devices/x/nothing", admin, null).code(),
                "an unknown path is answered with code not-found (or this test could not fail)");
    }

    // ---------------------------------------------------------------- authentication and roles

    @Test
    void missingWrongAndExpiredKeysAre401() throws Exception {
        problem(server.call("GET", "/api/v1/devices", null, null), 401, "missing-credentials");
        problem(server.call("GET", "/api/v1/devices", "drv_nope", null), 401, "invalid-credentials");
        Reply basic = server.call("GET", "/api/v1/devices", null, null, "Authorization", "Basic abc");
        problem(basic, 401, "invalid-credentials");
        String secret = "drv_expired_" + tenant;
        server.access.createKey(new ApiKey("k-exp-" + tenant, tenant, ApiKey.Role.ADMIN, "old",
                Instant.now().minusSeconds(100), Optional.of(Instant.now().minusSeconds(10)), Credentials.hash(secret)))
                .toCompletableFuture().get();
        problem(server.call("GET", "/api/v1/devices", secret, null), 401, "expired-credentials");
    }

    @Test
    void rolesLimitWhatAKeyMayDo() throws Exception {
        createDevice("r1");
        String viewer = key("viewer");
        String operator = key("operator");
        assertEquals(200, server.call("GET", "/api/v1/devices/r1", viewer, null).status());
        problem(server.call("POST", "/api/v1/devices", viewer, "{\"id\":\"r2\"}"), 403, "forbidden");
        problem(server.call("PATCH", "/api/v1/devices/r1/shadow/desired", viewer, "{\"a\":1}"), 403, "forbidden");
        assertEquals(201, server.call("POST", "/api/v1/devices", operator, "{\"id\":\"r3\"}").status());
        problem(server.call("POST", "/api/v1/api-keys", operator, "{\"role\":\"viewer\"}"), 403, "forbidden");
        problem(server.call("GET", "/api/v1/api-keys", viewer, null), 403, "forbidden");
        // platform keys manage tenants, not devices; tenant keys do not create tenants
        problem(server.call("GET", "/api/v1/devices", server.platformKey, null), 403, "forbidden");
        problem(server.call("POST", "/api/v1/tenants", admin, "{\"id\":\"nope-" + tenant + "\"}"), 403, "forbidden");
    }

    // ---------------------------------------------------------------- tenants

    @Test
    void tenantsAreCreatedOnceWithTheirFirstAdminKey() throws Exception {
        problem(server.call("POST", "/api/v1/tenants", server.platformKey, "{\"id\":\"" + tenant + "\"}"), 409, "tenant-exists");
        problem(server.call("POST", "/api/v1/tenants", server.platformKey, "{\"id\":\"Bad_Id\"}"), 400, "invalid-field");
        Reply own = call("GET", "/api/v1/tenants/" + tenant, null);
        assertEquals(200, own.status());
        assertEquals(tenant, own.body().get("id").asText());
        problem(call("GET", "/api/v1/tenants/someone-else", null), 404, "tenant-not-found");
        assertEquals(200, server.call("GET", "/api/v1/tenants/" + tenant, server.platformKey, null).status());
    }

    // ---------------------------------------------------------------- API keys

    @Test
    void apiKeysAreShownOnceListedWithoutSecretsAndRevocable() throws Exception {
        Reply created = call("POST", "/api/v1/api-keys", "{\"name\":\"ci\",\"role\":\"operator\",\"expiresAt\":\"2099-01-01T00:00:00Z\"}");
        assertEquals(201, created.status());
        String secret = created.body().get("key").asText();
        String id = created.body().at("/apiKey/id").asText();
        assertEquals("2099-01-01T00:00:00Z", created.body().at("/apiKey/expiresAt").asText());
        Reply list = call("GET", "/api/v1/api-keys", null);
        assertEquals(200, list.status());
        assertEquals(2, list.body().get("items").size());
        assertFalse(list.raw().body().contains(secret));
        assertFalse(list.raw().body().contains(Credentials.hash(secret)), "hashes stay inside");
        assertEquals(200, server.call("GET", "/api/v1/devices", secret, null).status());
        assertEquals(204, call("DELETE", "/api/v1/api-keys/" + id, null).status());
        problem(server.call("GET", "/api/v1/devices", secret, null), 401, "invalid-credentials");
        problem(call("DELETE", "/api/v1/api-keys/" + id, null), 404, "api-key-not-found");
        problem(call("POST", "/api/v1/api-keys", "{\"role\":\"platform-admin\"}"), 400, "invalid-field");
        problem(call("POST", "/api/v1/api-keys", "{\"role\":\"viewer\",\"expiresAt\":\"2001-01-01T00:00:00Z\"}"), 400, "invalid-field");
    }

    // ---------------------------------------------------------------- devices

    @Test
    void createReturnsTheTokenOnceAndGetNeverShowsIt() throws Exception {
        Reply r = createDevice("dev-a");
        assertEquals("/api/v1/devices/dev-a", r.header("Location"));
        String token = r.body().get("token").asText();
        assertTrue(token.startsWith("dt_"));
        assertEquals("provisioned", r.body().at("/device/state").asText());
        Reply get = call("GET", "/api/v1/devices/dev-a", null);
        assertEquals(200, get.status());
        assertEquals("n-dev-a", get.body().get("name").asText());
        assertFalse(get.raw().body().contains(token));
        assertFalse(get.raw().body().contains(Credentials.hash(token)));
        assertNull(get.body().get("token"));
    }

    @Test
    void generatedIdsAndDuplicateIds() throws Exception {
        Reply gen = call("POST", "/api/v1/devices", "{}");
        assertEquals(201, gen.status());
        String id = gen.body().at("/device/id").asText();
        assertTrue(id.startsWith("d-"));
        problem(call("POST", "/api/v1/devices", "{\"id\":\"" + id + "\"}"), 409, "device-exists");
        problem(call("POST", "/api/v1/devices", "{\"id\":\"has space\"}"), 400, "invalid-field");
    }

    @Test
    void badBodiesGetClearErrors() throws Exception {
        Reply unknown = call("POST", "/api/v1/devices", "{\"id\":\"b1\",\"colour\":\"red\"}");
        problem(unknown, 400, "unknown-field");
        assertEquals("colour", unknown.body().get("field").asText());
        Reply wrongType = call("POST", "/api/v1/devices", "{\"id\":\"b1\",\"name\":42}");
        problem(wrongType, 400, "invalid-field");
        assertEquals("name", wrongType.body().get("field").asText());
        Reply wrongLabels = call("POST", "/api/v1/devices", "{\"id\":\"b1\",\"labels\":\"x\"}");
        problem(wrongLabels, 400, "invalid-field");
        assertEquals("labels", wrongLabels.body().get("field").asText());
        problem(call("POST", "/api/v1/devices", "{\"id\":"), 400, "malformed-json");
        problem(call("POST", "/api/v1/devices", "[1,2]"), 400, "invalid-body");
        problem(call("POST", "/api/v1/devices", ""), 400, "empty-body");
        problem(call("POST", "/api/v1/devices", "{\"id\":\"b1\"}", "Content-Type", "text/plain"), 415, "unsupported-media-type");
        String big = "{\"id\":\"b1\",\"name\":\"" + "x".repeat(9000) + "\"}";
        problem(call("POST", "/api/v1/devices", big), 413, "body-too-large");
        problem(call("PUT", "/api/v1/devices", "{}"), 405, "method-not-allowed");
        problem(call("GET", "/api/v1/nothing-here", null), 404, "not-found");
        assertEquals(404, call("GET", "/api/v1/devices/b1", null).status(), "nothing was created by bad requests");
    }

    @Test
    void anotherTenantsDeviceIsIndistinguishableFromAMissingOne() throws Exception {
        createDevice("mine");
        String myTenant = tenant;
        newTenant(); // switch to a second tenant
        Reply other = call("GET", "/api/v1/devices/mine", null);
        Reply missing = call("GET", "/api/v1/devices/never-existed", null);
        problem(other, 404, "device-not-found");
        problem(missing, 404, "device-not-found");
        assertEquals(other.body().get("detail").asText().replace("mine", "X"),
                missing.body().get("detail").asText().replace("never-existed", "X"));
        problem(call("PATCH", "/api/v1/devices/mine/shadow/desired", "{\"a\":1}"), 404, "device-not-found");
        problem(call("DELETE", "/api/v1/devices/mine", null), 404, "device-not-found");
        assertNotEquals(myTenant, tenant);
    }

    @Test
    void metadataPatch() throws Exception {
        createDevice("m1");
        Reply r = call("PATCH", "/api/v1/devices/m1", "{\"name\":\"Kitchen\",\"attributes\":{\"room\":\"k\"}}");
        assertEquals(200, r.status(), r.raw().body());
        assertEquals("Kitchen", r.body().get("name").asText());
        assertEquals("meter", r.body().get("type").asText());
        assertEquals("k", r.body().at("/attributes/room").asText());
        problem(call("PATCH", "/api/v1/devices/m1", "{\"type\":\"no spaces\"}"), 400, "invalid-field");
        Eventually.await("the list to follow the twin", Duration.ofSeconds(10), () -> call("GET", "/api/v1/devices", null),
                listed -> "Kitchen".equals(listed.body().at("/items/0/name").asText()));
        call("POST", "/api/v1/devices/m1/suspend", null);
        Eventually.await("the list to show the suspension", Duration.ofSeconds(10), () -> call("GET", "/api/v1/devices", null),
                listed -> "suspended".equals(listed.body().at("/items/0/state").asText()));
    }

    @Test
    void listPagesAndFilters() throws Exception {
        for (int i = 0; i < 7; i++) {
            Reply r = call("POST", "/api/v1/devices", "{\"id\":\"p" + i + "\",\"type\":\"" + (i % 2 == 0 ? "even" : "odd")
                    + "\",\"labels\":[\"" + (i < 3 ? "low" : "high") + "\"]}");
            assertEquals(201, r.status());
        }
        Eventually.await("7 devices listed", Duration.ofSeconds(10), () -> call("GET", "/api/v1/devices?limit=50", null),
                r -> r.body().get("items").size() == 7);
        Set<String> seen = new HashSet<>();
        String cursor = null;
        int pages = 0;
        do {
            Reply page = call("GET", "/api/v1/devices?limit=3" + (cursor == null ? "" : "&cursor=" + cursor), null);
            assertEquals(200, page.status());
            page.body().get("items").forEach(d -> assertTrue(seen.add(d.get("id").asText())));
            JsonNode next = page.body().get("nextCursor");
            cursor = next == null ? null : next.asText();
            pages++;
        } while (cursor != null && pages < 10);
        assertEquals(7, seen.size());
        assertEquals(3, pages);
        Reply even = call("GET", "/api/v1/devices?type=even", null);
        assertEquals(4, even.body().get("items").size());
        Reply low = call("GET", "/api/v1/devices?label=low&type=odd", null);
        assertEquals(1, low.body().get("items").size());
        assertEquals("p1", low.body().at("/items/0/id").asText());
        problem(call("GET", "/api/v1/devices?limit=0", null), 400, "invalid-field");
        problem(call("GET", "/api/v1/devices?limit=100000", null), 400, "invalid-field");
        problem(call("GET", "/api/v1/devices?cursor=garbage", null), 400, "invalid-cursor");
    }

    @Test
    void listSearchStateAndOnlineFilters() throws Exception {
        call("POST", "/api/v1/devices", "{\"id\":\"pump-1\",\"name\":\"North Pump\"}");
        call("POST", "/api/v1/devices", "{\"id\":\"pump-2\",\"name\":\"south pump\"}");
        call("POST", "/api/v1/devices", "{\"id\":\"valve-1\",\"name\":\"Pumphouse valve\"}");
        call("POST", "/api/v1/devices/pump-2/suspend", null);
        server.twins.ask(new io.drover.device.DeviceKey(tenant, "pump-1"),
                r -> new io.drover.device.Device.RecordConnected("s1", io.drover.shard.ClusterSessionDirectory.selfNode(server.system), Instant.now(), r))
                .toCompletableFuture().get();
        Eventually.await("pump-1 online and pump-2 suspended in the list", Duration.ofSeconds(10),
                () -> call("GET", "/api/v1/devices?limit=50", null),
                r -> r.body().at("/items/0/online").asBoolean() && "suspended".equals(r.body().at("/items/1/state").asText()));
        assertEquals(Set.of("pump-1", "pump-2", "valve-1"), ids(call("GET", "/api/v1/devices?q=PUMP", null)));
        assertEquals(Set.of("pump-1", "pump-2"), ids(call("GET", "/api/v1/devices?q=pump-", null)));
        assertEquals(Set.of("pump-1"), ids(call("GET", "/api/v1/devices?q=north", null)));
        assertEquals(Set.of("pump-2"), ids(call("GET", "/api/v1/devices?state=suspended", null)));
        assertEquals(Set.of("pump-1"), ids(call("GET", "/api/v1/devices?online=true", null)));
        assertEquals(Set.of("pump-2", "valve-1"), ids(call("GET", "/api/v1/devices?online=false&q=pump", null)));
        assertEquals(Set.of(), ids(call("GET", "/api/v1/devices?state=active&q=valve", null)));
        // a filter that matches little still pages through everything (short pages carry a cursor on)
        Set<String> seen = new HashSet<>();
        String cursor = null;
        for (int pages = 0; pages < 10; pages++) {
            Reply page = call("GET", "/api/v1/devices?limit=1&q=pump" + (cursor == null ? "" : "&cursor=" + cursor), null);
            page.body().get("items").forEach(d -> seen.add(d.get("id").asText()));
            JsonNode next = page.body().get("nextCursor");
            if (next == null || next.isNull()) {
                break;
            }
            cursor = next.asText();
        }
        assertEquals(Set.of("pump-1", "pump-2", "valve-1"), seen);
        problem(call("GET", "/api/v1/devices?state=asleep", null), 400, "invalid-field");
        problem(call("GET", "/api/v1/devices?online=yes", null), 400, "invalid-field");
        problem(call("GET", "/api/v1/devices?q=", null), 400, "invalid-field");
        problem(call("GET", "/api/v1/devices?q=" + "x".repeat(129), null), 400, "invalid-field");
    }

    private static Set<String> ids(Reply r) {
        assertEquals(200, r.status(), r.raw().body());
        Set<String> s = new HashSet<>();
        r.body().get("items").forEach(d -> s.add(d.get("id").asText()));
        return s;
    }

    @Test
    void meTellsTheConsoleWhoTheKeyIs() throws Exception {
        Reply me = call("GET", "/api/v1/me", null);
        assertEquals(200, me.status());
        assertEquals(tenant, me.body().get("tenantId").asText());
        assertEquals("admin", me.body().get("role").asText());
        assertTrue(me.body().get("canWrite").asBoolean());
        assertTrue(me.body().get("admin").asBoolean());
        Reply viewer = server.call("GET", "/api/v1/me", key("viewer"), null);
        assertEquals("viewer", viewer.body().get("role").asText());
        assertFalse(viewer.body().get("canWrite").asBoolean());
        assertFalse(viewer.body().get("admin").asBoolean());
        Reply operator = server.call("GET", "/api/v1/me", key("operator"), null);
        assertTrue(operator.body().get("canWrite").asBoolean());
        assertFalse(operator.body().get("admin").asBoolean());
        Reply platform = server.call("GET", "/api/v1/me", server.platformKey, null);
        assertEquals("platform-admin", platform.body().get("role").asText());
        assertFalse(platform.body().hasNonNull("tenantId"));
        problem(server.call("GET", "/api/v1/me", "drv_nope", null), 401, "invalid-credentials");
        problem(server.call("GET", "/api/v1/fleet/summary", server.platformKey, null), 403, "forbidden");
    }

    @Test
    void fleetSummaryCountsDevicesOnlineAndActiveAlarms() throws Exception {
        for (String id : new String[] {"s1", "s2", "s3"}) {
            createDevice(id);
        }
        call("POST", "/api/v1/devices/s2/suspend", null);
        server.twins.ask(new io.drover.device.DeviceKey(tenant, "s1"),
                r -> new io.drover.device.Device.RecordConnected("sess", io.drover.shard.ClusterSessionDirectory.selfNode(server.system), Instant.now(), r))
                .toCompletableFuture().get();
        Instant now = Instant.now();
        server.alarms.upsert(alarm("a1", io.drover.rules.Severity.CRITICAL, io.drover.rules.Alarm.Status.ACTIVE, false, now));
        server.alarms.upsert(alarm("a2", io.drover.rules.Severity.MAJOR, io.drover.rules.Alarm.Status.ACTIVE, true, now));
        server.alarms.upsert(alarm("a3", io.drover.rules.Severity.CRITICAL, io.drover.rules.Alarm.Status.CLEARED, false, now));
        // the summary is kept for summary-cache-ttl (10 s): wait for the read side first, then ask once
        Eventually.await("the list to show all three, s1 online", Duration.ofSeconds(10),
                () -> call("GET", "/api/v1/devices?online=true", null), r -> r.body().get("items").size() == 1);
        Eventually.await("s2 suspended in the list", Duration.ofSeconds(10),
                () -> call("GET", "/api/v1/devices?state=suspended", null), r -> r.body().get("items").size() == 1);
        Reply s = call("GET", "/api/v1/fleet/summary", null);
        assertEquals(200, s.status(), s.raw().body());
        JsonNode b = s.body();
        assertEquals(3, b.at("/devices/total").asLong());
        assertEquals(1, b.at("/devices/online").asLong());
        assertEquals(1, b.at("/devices/byState/suspended").asLong());
        assertEquals(1, b.at("/devices/byState/provisioned").asLong()); // s3
        assertEquals(1, b.at("/devices/byState/active").asLong()); // s1, activated by its first connection
        assertEquals(2, b.at("/alarms/active").asLong());
        assertEquals(1, b.at("/alarms/unacknowledged").asLong());
        assertEquals(1, b.at("/alarms/bySeverity/critical").asLong());
        assertEquals(1, b.at("/alarms/bySeverity/major").asLong());
        assertEquals(0, b.at("/alarms/bySeverity/minor").asLong());
        assertTrue(b.get("complete").asBoolean());
        assertFalse(Instant.parse(b.get("computedAt").asText()).isBefore(now.minusSeconds(1)));
        // another tenant sees only its own
        ApiTestServer.TestTenant other = server.newTenant("o");
        Reply o = server.call("GET", "/api/v1/fleet/summary", other.adminKey(), null);
        assertEquals(0, o.body().at("/devices/total").asLong());
        assertEquals(0, o.body().at("/alarms/active").asLong());
        assertEquals(200, server.call("GET", "/api/v1/fleet/summary", key("viewer"), null).status());
    }

    @Test
    void fleetPositionsPageTheListWithEachDevicesNewestLatLon() throws Exception {
        String[] ids = {"m1", "m2", "m3", "m4", "m5"};
        java.util.Map<String, String> tokens = new java.util.HashMap<>();
        for (String id : ids) {
            tokens.put(id, createDevice(id).body().get("token").asText());
        }
        long ts = System.currentTimeMillis() - 5_000;
        send(tokens.get("m1"), "m1", "{\"ts\":" + ts + ",\"values\":{\"lat\":52.5,\"lon\":13.4}}");
        send(tokens.get("m1"), "m1", "{\"ts\":" + (ts + 1000) + ",\"values\":{\"lat\":52.6,\"lon\":13.5}}");
        send(tokens.get("m2"), "m2", "{\"ts\":" + ts + ",\"values\":{\"lat\":-33.9,\"lon\":151.2,\"t\":20}}");
        send(tokens.get("m3"), "m3", "{\"ts\":" + ts + ",\"values\":{\"t\":20}}"); // no position
        send(tokens.get("m4"), "m4", "{\"ts\":" + ts + ",\"values\":{\"lat\":\"north\",\"lon\":1}}"); // not numbers
        send(tokens.get("m5"), "m5", "{\"ts\":" + ts + ",\"values\":{\"lat\":95,\"lon\":1}}"); // off the globe
        Eventually.await("all five listed", Duration.ofSeconds(10), () -> call("GET", "/api/v1/devices?limit=50", null),
                r -> r.body().get("items").size() == 5);
        java.util.Map<String, JsonNode> found = new java.util.TreeMap<>();
        int read = 0;
        String cursor = null;
        for (int pages = 0; pages < 10; pages++) {
            Reply p = call("GET", "/api/v1/fleet/positions?limit=2" + (cursor == null ? "" : "&cursor=" + cursor), null);
            assertEquals(200, p.status(), p.raw().body());
            p.body().get("items").forEach(i -> found.put(i.get("id").asText(), i));
            read += p.body().get("devicesRead").asInt();
            if (!p.body().hasNonNull("nextCursor")) {
                break;
            }
            cursor = p.body().get("nextCursor").asText();
        }
        assertEquals(5, read);
        assertEquals(Set.of("m1", "m2"), found.keySet());
        assertEquals(52.6, found.get("m1").get("lat").asDouble(), 1e-9, "the newest sample");
        assertEquals(13.5, found.get("m1").get("lon").asDouble(), 1e-9);
        assertEquals(ts + 1000, found.get("m1").get("ts").asLong());
        assertEquals(-33.9, found.get("m2").get("lat").asDouble(), 1e-9);
        problem(call("GET", "/api/v1/fleet/positions?limit=1001", null), 400, "invalid-field");
        problem(call("GET", "/api/v1/fleet/positions?cursor=junk", null), 400, "invalid-cursor");
    }

    private void send(String token, String device, String body) throws Exception {
        Reply r = server.call("POST", "/api/v1/device-api/telemetry", token, body, "X-Device-Id", tenant + ":" + device);
        assertEquals(200, r.status(), r.raw().body());
    }

    @Test
    void theWebSocketPushesTheTenantsSessionStartsAndEnds() throws Exception {
        createDevice("w1");
        ApiTestServer.TestTenant other = server.newTenant("o");
        server.call("POST", "/api/v1/devices", other.adminKey(), "{\"id\":\"x1\"}");
        io.drover.http.testing.WsFrames s = new io.drover.http.testing.WsFrames(true);
        java.net.http.WebSocket ws = java.net.http.HttpClient.newHttpClient().newWebSocketBuilder()
                .header("Authorization", "Bearer " + admin)
                .buildAsync(java.net.URI.create(server.base().replace("http", "ws") + "/api/v1/ws"), s)
                .get(10, java.util.concurrent.TimeUnit.SECONDS);
        ws.sendText("{\"type\":\"subscribe\",\"id\":\"c\",\"connectivity\":\"yes\"}", true).get();
        assertEquals("invalid-message", s.next("error").get("code").asText());
        ws.sendText("{\"type\":\"subscribe\",\"id\":\"c\",\"connectivity\":true}", true).get();
        JsonNode ack = s.next("subscribed");
        assertTrue(ack.get("connectivity").asBoolean(), ack.toString());
        String node = io.drover.shard.ClusterSessionDirectory.selfNode(server.system);
        // the other tenant's device: not this socket's
        server.twins.ask(new io.drover.device.DeviceKey(other.id(), "x1"),
                r -> new io.drover.device.Device.RecordConnected("x", node, Instant.now(), r)).toCompletableFuture().get();
        server.twins.ask(new io.drover.device.DeviceKey(tenant, "w1"),
                r -> new io.drover.device.Device.RecordConnected("s1", node, Instant.now(), r)).toCompletableFuture().get();
        JsonNode on = s.next("connectivity");
        assertEquals("w1", on.get("deviceId").asText(), "only this tenant's sessions: " + on);
        assertTrue(on.get("online").asBoolean());
        assertFalse(on.has("reason"));
        Instant.parse(on.get("at").asText());
        server.twins.ask(new io.drover.device.DeviceKey(tenant, "w1"),
                r -> new io.drover.device.Device.RecordDisconnected("s1", "client-disconnected", Instant.now(), r))
                .toCompletableFuture().get();
        JsonNode off = s.next("connectivity");
        assertEquals("w1", off.get("deviceId").asText(), "only this tenant's sessions: " + off);
        assertFalse(off.get("online").asBoolean());
        assertEquals("client-disconnected", off.get("reason").asText());
        ws.sendText("{\"type\":\"unsubscribe\",\"id\":\"u\",\"connectivity\":true}", true).get();
        assertEquals("unsubscribed", s.next("unsubscribed").get("type").asText());
        server.twins.ask(new io.drover.device.DeviceKey(tenant, "w1"),
                r -> new io.drover.device.Device.RecordConnected("s2", node, Instant.now(), r)).toCompletableFuture().get();
        assertNull(s.frames.poll(1, java.util.concurrent.TimeUnit.SECONDS), "nothing after unsubscribing");
        ws.abort();
    }

    private io.drover.rules.Alarm.AlarmView alarm(String id, io.drover.rules.Severity severity,
            io.drover.rules.Alarm.Status status, boolean acked, Instant at) {
        return new io.drover.rules.Alarm.AlarmView(id, tenant, "high-temp", "s1", 1, severity, status, acked, 1, at, at,
                status == io.drover.rules.Alarm.Status.CLEARED ? at : null, null, acked ? at : null, null, "r1", 1, null,
                false, 0);
    }

    @Test
    void lifecycleOverHttp() throws Exception {
        createDevice("l1");
        assertEquals("active", call("POST", "/api/v1/devices/l1/activate", null).body().get("state").asText());
        problem(call("POST", "/api/v1/devices/l1/activate", null), 409, "invalid-device-state");
        assertEquals("suspended", call("POST", "/api/v1/devices/l1/suspend", null).body().get("state").asText());
        Eventually.await("the list to show the suspension", Duration.ofSeconds(10),
                () -> call("GET", "/api/v1/devices?limit=5", null),
                r -> "suspended".equals(r.body().at("/items/0/state").asText()));
        assertEquals("active", call("POST", "/api/v1/devices/l1/activate", null).body().get("state").asText());
        assertEquals(204, call("DELETE", "/api/v1/devices/l1", null).status());
        problem(call("GET", "/api/v1/devices/l1", null), 410, "device-decommissioned");
        problem(call("POST", "/api/v1/devices/l1/activate", null), 410, "device-decommissioned");
        problem(call("POST", "/api/v1/devices", "{\"id\":\"l1\"}"), 409, "device-exists");
    }

    @Test
    void rotationIssuesANewToken() throws Exception {
        String first = createDevice("c1").body().get("token").asText();
        Reply r = call("POST", "/api/v1/devices/c1/credentials/rotate", null);
        assertEquals(200, r.status());
        String second = r.body().get("token").asText();
        assertNotEquals(first, second);
        assertNotNull(r.body().at("/device/credentialsRotatedAt").asText());
    }

    // ---------------------------------------------------------------- shadow

    @Test
    void shadowEtagsAndConditionalUpdates() throws Exception {
        createDevice("s1");
        Reply s0 = call("GET", "/api/v1/devices/s1/shadow", null);
        assertEquals(200, s0.status());
        assertEquals("\"0\"", s0.header("ETag"));
        Reply s1 = call("PATCH", "/api/v1/devices/s1/shadow/desired", "{\"temp\":21,\"mode\":\"eco\"}",
                "If-Match", "\"0\"", "Content-Type", "application/merge-patch+json");
        assertEquals(200, s1.status(), s1.raw().body());
        assertEquals("\"1\"", s1.header("ETag"));
        assertEquals(21, s1.body().at("/delta/temp").asInt());
        problem(call("PATCH", "/api/v1/devices/s1/shadow/desired", "{\"temp\":22}", "If-Match", "\"0\""), 412, "version-mismatch");
        problem(call("PATCH", "/api/v1/devices/s1/shadow/desired", "{\"temp\":22}", "If-Match", "\"abc\""), 412, "version-mismatch");
        Reply s2 = call("PATCH", "/api/v1/devices/s1/shadow/desired", "{\"mode\":null}", "If-Match", "W/\"1\"");
        assertEquals(200, s2.status());
        assertNull(s2.body().at("/desired").get("mode"));
        Reply unconditional = call("PATCH", "/api/v1/devices/s1/shadow/desired", "{\"fan\":true}");
        assertEquals(3, unconditional.body().get("version").asInt());
        Reply delta = call("GET", "/api/v1/devices/s1/shadow/delta", null);
        assertEquals(200, delta.status());
        assertEquals(3, delta.body().get("version").asInt());
        assertTrue(delta.body().at("/delta/fan").asBoolean());
        problem(call("PATCH", "/api/v1/devices/s1/shadow/desired", "[1]"), 400, "invalid-body");
        problem(call("PATCH", "/api/v1/devices/s1/shadow/desired", "{\"blob\":\"" + "y".repeat(2000) + "\"}"), 413, "shadow-too-large");
        assertEquals(3, call("GET", "/api/v1/devices/s1/shadow", null).body().get("version").asInt(), "a rejected patch changes nothing");
    }

    @Test
    void shadowHistoryReplaysTheJournal() throws Exception {
        createDevice("h1");
        Instant beforeAnyChange = Instant.now();
        call("PATCH", "/api/v1/devices/h1/shadow/desired", "{\"v\":1}");
        Thread.sleep(5); // events carry wall-clock times; make them distinct
        Instant afterFirst = Instant.now();
        Thread.sleep(5);
        call("PATCH", "/api/v1/devices/h1/shadow/desired", "{\"v\":2}");
        Reply changes = call("GET", "/api/v1/devices/h1/shadow/history", null);
        assertEquals(200, changes.status());
        assertEquals(2, changes.body().get("changes").size());
        assertEquals(1, changes.body().at("/changes/0/patch/v").asInt());
        Reply at = call("GET", "/api/v1/devices/h1/shadow/history?at=" + afterFirst, null);
        assertEquals(200, at.status(), at.raw().body());
        assertEquals(1, at.body().at("/shadow/desired/v").asInt());
        assertEquals(1, at.body().at("/shadow/version").asInt());
        Reply early = call("GET", "/api/v1/devices/h1/shadow/history?at=" + beforeAnyChange, null);
        assertEquals(0, early.body().at("/shadow/version").asInt());
        problem(call("GET", "/api/v1/devices/h1/shadow/history?at=2000-01-01T00:00:00Z", null), 404, "no-shadow-at-time");
        problem(call("GET", "/api/v1/devices/h1/shadow/history?at=yesterday", null), 400, "invalid-field");
        problem(call("GET", "/api/v1/devices/nope/shadow/history", null), 404, "device-not-found");
    }

    // ---------------------------------------------------------------- device API (device tokens)

    @Test
    void devicesWithoutMqttSendTelemetryAndReportedStateOverHttp() throws Exception {
        String token = createDevice("h-dev").body().get("token").asText();
        String id = tenant + ":h-dev";
        long ts = System.currentTimeMillis() / 1000 * 1000 - 60_000;
        Reply ok = server.call("POST", "/api/v1/device-api/telemetry", token, "{\"ts\":" + ts + ",\"values\":{\"t\":21.5}}",
                "X-Device-Id", id);
        assertEquals(200, ok.status(), ok.raw().body());
        assertEquals(1, ok.body().get("stored").asInt());
        assertEquals(21.5, call("GET", "/api/v1/devices/h-dev/telemetry?keys=t&from=" + (ts - 1000) + "&to=" + (ts + 1000), null).body().at("/series/t/0/value")
                .asDouble(), "answered after the write");
        problem(server.call("POST", "/api/v1/device-api/telemetry", token, "{\"t\":", "X-Device-Id", id), 400, "malformed-json");
        problem(server.call("POST", "/api/v1/device-api/telemetry", token, "{\"t\":null}", "X-Device-Id", id), 400, "invalid-value");
        problem(server.call("POST", "/api/v1/device-api/telemetry", token + "x", "{\"t\":1}", "X-Device-Id", id), 401,
                "invalid-device-credentials");
        problem(server.call("POST", "/api/v1/device-api/telemetry", token, "{\"t\":1}"), 401, "invalid-device-credentials");
        problem(server.call("POST", "/api/v1/device-api/telemetry", admin, "{\"t\":1}", "X-Device-Id", id), 401,
                "invalid-device-credentials");
        Reply reported = server.call("POST", "/api/v1/device-api/shadow/reported", token, "{\"fw\":\"2.1\"}", "X-Device-Id", id);
        assertEquals(200, reported.status(), reported.raw().body());
        assertEquals("2.1", call("GET", "/api/v1/devices/h-dev/shadow", null).body().at("/reported/fw").asText());
        call("POST", "/api/v1/devices/h-dev/suspend", null);
        problem(server.call("POST", "/api/v1/device-api/telemetry", token, "{\"t\":1}", "X-Device-Id", id), 403, "device-not-active");
    }

    // ---------------------------------------------------------------- overload and timeouts

    @Test
    void aTwinThatDoesNotAnswerIs503() throws Exception {
        Reply r = call("GET", "/api/v1/devices/slow-1", null);
        problem(r, 503, "timeout");
        assertEquals("1", r.header("Retry-After"));
    }

    @Test
    void tooManyRequestsIs429WithRetryAfter() throws Exception {
        try (ApiTestServer limited = new ApiTestServer(Map.of("drover.http.rate-limit.per-second", 0.5,
                "drover.http.rate-limit.burst", 2))) {
            assertEquals(200, limited.call("GET", "/health/alive", null, null).status());
            limited.call("POST", "/api/v1/tenants", limited.platformKey, "{\"id\":\"rl\"}");
            Reply second = limited.call("GET", "/api/v1/tenants/rl", limited.platformKey, null);
            assertEquals(200, second.status());
            Reply third = limited.call("GET", "/api/v1/tenants/rl", limited.platformKey, null);
            problem(third, 429, "rate-limited");
            assertNotNull(third.header("Retry-After"));
        }
    }
}

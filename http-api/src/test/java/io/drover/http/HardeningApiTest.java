package io.drover.http;

import static io.drover.http.testing.ApiTestServer.problem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.drover.device.Credentials;
import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.http.testing.ApiTestServer;
import io.drover.http.testing.ApiTestServer.Reply;
import io.drover.http.testing.WsFrames;
import io.drover.persistence.testing.Eventually;
import io.drover.shard.ShardSettings;
import io.drover.shard.ShardedDeviceClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 12 (hardening), the HTTP side: what a stranger's requests cost. Every request here comes from 127.0.0.1,
 * so the failed-authentication budget (burst 40, practically no refill) is shared by the tests: the one that uses
 * it up runs last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HardeningApiTest {

    private static final int BURST = 40;
    private static ApiTestServer server;

    private String tenant;
    private String admin;

    @BeforeAll
    static void start() throws Exception {
        server = new ApiTestServer(Map.of(
                "drover.http.metrics-token", "scrape-secret",
                "drover.http.auth-cache.size", "10",
                "drover.security.auth-failures.burst", String.valueOf(BURST),
                "drover.security.auth-failures.per-second", "0.0001",
                "drover.shard-config.unknown-devices.ttl", "2s",
                "drover.telemetry.limits.max-keys-per-device", "5",
                "drover.device.snapshot-every", "5"));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @BeforeEach
    void newTenant() throws Exception {
        ApiTestServer.TestTenant t = server.newTenant("h");
        tenant = t.id();
        admin = t.adminKey();
    }

    @Test
    @Order(1)
    void metricsNeedTheScrapeTokenWhenOneIsSet() throws Exception {
        problem(server.call("GET", "/metrics", null, null), 401, "missing-credentials");
        problem(server.call("GET", "/metrics", "wrong", null), 401, "invalid-credentials");
        Reply ok = server.call("GET", "/metrics", "scrape-secret", null);
        assertEquals(200, ok.status());
        assertTrue(ok.raw().body().contains("drover_http_requests_total"), ok.raw().body());
    }

    @Test
    @Order(2)
    void aStringThatMatchesNoKeyCostsOneReadAndAFloodDoesNotEvictKeysInUse() throws Exception {
        int before = server.access.keyReads.get();
        for (int i = 0; i < 5; i++) {
            problem(server.call("GET", "/api/v1/devices", "drv_no_such_key", null), 401, "invalid-credentials");
        }
        assertEquals(before + 1, server.access.keyReads.get(), "the same unknown string read once per TTL");

        // a key in use stays cached while strangers send 20 distinct strings (the cache holds 10)
        assertEquals(200, server.call("GET", "/api/v1/devices", admin, null).status());
        int start = server.access.keyReads.get();
        for (int i = 0; i < 20; i++) {
            problem(server.call("GET", "/api/v1/devices", "drv_junk_" + i, null), 401, "invalid-credentials");
            assertEquals(200, server.call("GET", "/api/v1/devices", admin, null).status());
        }
        assertEquals(start + 20, server.access.keyReads.get(),
                "one read per distinct junk string and none for the key in use (it was never evicted)");
    }

    @Test
    @Order(3)
    void aTwinThatFindsNoDeviceStopsAtOnce() throws Exception {
        problem(server.call("POST", "/api/v1/device-api/telemetry", "some-token", "{\"t\":1}",
                "X-Device-Id", tenant + ":ghost"), 401, "invalid-device-credentials");
        String entityId = new DeviceKey(tenant, "ghost").entityId();
        Eventually.await("the twin of a device that does not exist to stop", Duration.ofSeconds(5),
                this::runningTwins, twins -> !twins.contains(entityId));
        // a real device's twin stays
        assertEquals(201, server.call("POST", "/api/v1/devices", admin, "{\"id\":\"real\"}").status());
        Thread.sleep(1000);
        assertTrue(runningTwins().contains(new DeviceKey(tenant, "real").entityId()), "the control: a twin that exists");
    }

    @Test
    @Order(4)
    void unknownIdsAreAnsweredFromMemoryUntilRegisteredHereOrTheTtlEnds() throws Exception {
        problem(server.call("GET", "/api/v1/devices/ghost2", admin, null), 404, "device-not-found");
        // registered behind this node's back (another node, say): this node still answers from memory…
        ShardedDeviceClient elsewhere = new ShardedDeviceClient(server.system, ClusterSharding.get(server.system),
                ShardSettings.fromConfig(server.system.settings().config()));
        Device.Reply r = elsewhere.register(new DeviceKey(tenant, "ghost2"), null, null, List.of(), null)
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertTrue(r instanceof Device.TokenIssued, r.toString());
        problem(server.call("GET", "/api/v1/devices/ghost2", admin, null), 404, "device-not-found");
        // …for at most the TTL (2 s here)
        Eventually.await("the registration seen after the TTL", Duration.ofSeconds(5),
                () -> server.call("GET", "/api/v1/devices/ghost2", admin, null).status(), s -> s == 200);
        // registered through this node: known at once
        problem(server.call("GET", "/api/v1/devices/ghost3", admin, null), 404, "device-not-found");
        assertEquals(201, server.call("POST", "/api/v1/devices", admin, "{\"id\":\"ghost3\"}").status());
        assertEquals(200, server.call("GET", "/api/v1/devices/ghost3", admin, null).status());
    }

    @Test
    @Order(5)
    void theDeviceApiChecksTheTokenBeforeReadingTheBody() throws Exception {
        assertEquals(201, server.call("POST", "/api/v1/devices", admin, "{\"id\":\"d1\"}").status());
        String huge = "{\"t\":\"" + "x".repeat(200 * 1024) + "\"}"; // over max-body-size (64 KiB)
        problem(server.call("POST", "/api/v1/device-api/telemetry", "wrong-token", huge, "X-Device-Id", tenant + ":d1"),
                401, "invalid-device-credentials");
    }

    @Test
    @Order(6)
    void telemetryTimestampsAndKeysAreBounded() throws Exception {
        String token = server.call("POST", "/api/v1/devices", admin, "{\"id\":\"k1\"}").body().get("token").asText();
        String id = tenant + ":k1";
        problem(server.call("POST", "/api/v1/device-api/telemetry", token, "{\"ts\":0,\"values\":{\"a\":1}}",
                "X-Device-Id", id), 400, "timestamp-too-old");
        long future = System.currentTimeMillis() + 3 * 3_600_000L;
        problem(server.call("POST", "/api/v1/device-api/telemetry", token, "{\"ts\":" + future + ",\"values\":{\"a\":1}}",
                "X-Device-Id", id), 400, "invalid-timestamp");
        assertEquals(200, server.call("POST", "/api/v1/device-api/telemetry", token,
                "{\"a\":1,\"b\":2,\"c\":3,\"d\":4}", "X-Device-Id", id).status());
        problem(server.call("POST", "/api/v1/device-api/telemetry", token, "{\"e\":5,\"f\":6}", "X-Device-Id", id),
                400, "too-many-keys");
        assertEquals(200, server.call("POST", "/api/v1/device-api/telemetry", token, "{\"e\":5,\"a\":7}",
                "X-Device-Id", id).status(), "the fifth key fits; known keys always do");
        problem(server.call("POST", "/api/v1/device-api/telemetry", token, "{\"g\":1}", "X-Device-Id", id),
                400, "too-many-keys");
        assertEquals(200, server.call("POST", "/api/v1/device-api/telemetry", token, "{\"b\":1}", "X-Device-Id", id)
                .status());
        assertEquals(0, server.telemetry.read(tenant, "k1", "g", java.time.Instant.EPOCH,
                java.time.Instant.now().plusSeconds(60), 10).toCompletableFuture().get().size(), "nothing refused is stored");
    }

    @Test
    @Order(7)
    void aTwoWayWaitLongerThanTheRequestTimeoutIsRefused() throws Exception {
        assertEquals(201, server.call("POST", "/api/v1/devices", admin, "{\"id\":\"c1\"}").status());
        Reply r = server.call("POST", "/api/v1/devices/c1/commands", admin,
                "{\"name\":\"reboot\",\"twoWay\":true,\"timeoutSeconds\":30}");
        problem(r, 400, "invalid-field");
        assertEquals("timeoutSeconds", r.body().get("field").asText());
        // within it, the command goes on (to a device that is offline here: 409)
        problem(server.call("POST", "/api/v1/devices/c1/commands", admin,
                "{\"name\":\"reboot\",\"twoWay\":true,\"timeoutSeconds\":15}"), 409, "device-offline");
    }

    @Test
    @Order(8)
    void aDeletedOrExpiredKeyClosesItsWebSocketsWithin5s() throws Exception {
        JsonNode k = server.call("POST", "/api/v1/api-keys", admin, "{\"name\":\"ws\",\"role\":\"viewer\"}").body();
        WsFrames deleted = socket(server.base(), k.get("key").asText());
        WsFrames control = socket(server.base(), admin);
        Thread.sleep(LiveRoutes.RECHECK.toMillis() + 500); // at least one check passed while the key was valid
        assertTrue(!deleted.closed.isDone(), "open while its key exists");
        assertEquals(204, server.call("DELETE", "/api/v1/api-keys/" + k.at("/apiKey/id").asText(), admin, null).status());
        long t0 = System.nanoTime();
        deleted.closed.get(5, TimeUnit.SECONDS);
        assertTrue(deleted.frames.stream().anyMatch(f -> "credentials-revoked".equals(f.path("code").asText())),
                deleted.frames.toString());
        long closedMs = (System.nanoTime() - t0) / 1_000_000;

        String expiresAt = java.time.Instant.now().plusSeconds(3).toString();
        JsonNode e = server.call("POST", "/api/v1/api-keys", admin,
                "{\"name\":\"ws2\",\"role\":\"viewer\",\"expiresAt\":\"" + expiresAt + "\"}").body();
        WsFrames expiring = socket(server.base(), e.get("key").asText());
        expiring.closed.get(3 + 5, TimeUnit.SECONDS);
        assertTrue(!control.closed.isDone(), "a socket whose key is valid stays open");
        System.out.println("deleted key: socket closed after " + closedMs + " ms");
    }

    @Test
    @Order(12)
    void aBrowserCanSendItsKeyAsAWebSocketSubprotocol() throws Exception {
        WsFrames s = new WsFrames(true);
        java.net.http.WebSocket ws = java.net.http.HttpClient.newHttpClient().newWebSocketBuilder()
                .subprotocols(LiveRoutes.PROTOCOL, "bearer." + admin)
                .buildAsync(java.net.URI.create(server.base().replace("http", "ws") + "/api/v1/ws"), s)
                .get(10, TimeUnit.SECONDS);
        assertEquals(LiveRoutes.PROTOCOL, ws.getSubprotocol(), "the server answers the drover subprotocol");
        ws.sendText("{\"type\":\"subscribe\",\"deviceIds\":[\"x\"]}", true).get(5, TimeUnit.SECONDS);
        Eventually.await("the subscribe answered", Duration.ofSeconds(5), () -> s.frames.size(), n -> n > 0);
        var refused = java.net.http.HttpClient.newHttpClient().newWebSocketBuilder()
                .subprotocols(LiveRoutes.PROTOCOL, "bearer.drv_wrong")
                .buildAsync(java.net.URI.create(server.base().replace("http", "ws") + "/api/v1/ws"), new WsFrames(true));
        assertThrows(java.util.concurrent.ExecutionException.class, () -> refused.get(10, TimeUnit.SECONDS),
                "a wrong key in the subprotocol: no socket");
        ws.abort();
    }

    private static WsFrames socket(String base, String key) throws Exception {
        WsFrames s = new WsFrames(true);
        java.net.http.HttpClient.newHttpClient().newWebSocketBuilder()
                .buildAsync(java.net.URI.create(base.replace("http", "ws") + "/api/v1/ws?access_token=" + key), s)
                .get(10, TimeUnit.SECONDS);
        return s;
    }

    @Test
    @Order(9)
    void noTenantIsLeftWithoutAnAdminKeyAndAPlatformAdminCanIssueOne() throws Exception {
        // a create that stopped between the tenant and its key (simulated: the tenant row alone)
        String id = "half-" + Long.toString(System.nanoTime(), 36);
        server.access.createTenant(new io.drover.persistence.Tenant(id, id, java.time.Instant.now()))
                .toCompletableFuture().get();
        Reply retried = server.call("POST", "/api/v1/tenants", server.platformKey, "{\"id\":\"" + id + "\"}");
        assertEquals(201, retried.status(), "the retry completes it: " + retried.raw().body());
        String key = retried.body().at("/adminKey/key").asText();
        assertEquals(200, server.call("GET", "/api/v1/devices", key, null).status());
        problem(server.call("POST", "/api/v1/tenants", server.platformKey, "{\"id\":\"" + id + "\"}"), 409,
                "tenant-exists");

        Reply issued = server.call("POST", "/api/v1/tenants/" + tenant + "/api-keys", server.platformKey,
                "{\"name\":\"rescue\",\"role\":\"admin\"}");
        assertEquals(201, issued.status(), issued.raw().body());
        assertEquals(tenant, issued.body().at("/apiKey/tenantId").asText());
        assertEquals(200, server.call("GET", "/api/v1/api-keys", issued.body().get("key").asText(), null).status(),
                "an admin key of that tenant");
        problem(server.call("POST", "/api/v1/tenants/" + tenant + "/api-keys", admin, "{\"role\":\"admin\"}"),
                403, "forbidden");
        problem(server.call("POST", "/api/v1/tenants/no-such-tenant/api-keys", server.platformKey,
                "{\"role\":\"admin\"}"), 404, "tenant-not-found");
        problem(server.call("POST", "/api/v1/tenants/" + tenant + "/api-keys", server.platformKey,
                "{\"role\":\"platform-admin\"}"), 400, "invalid-field");
    }

    @Test
    @Order(10)
    void anIdempotencyKeyMakesRetriesSafe() throws Exception {
        String key = "create-" + tenant;
        Reply first = server.call("POST", "/api/v1/devices", admin, "{\"name\":\"pump\"}", "Idempotency-Key", key);
        assertEquals(201, first.status(), first.raw().body());
        Reply again = server.call("POST", "/api/v1/devices", admin, "{\"name\":\"pump\"}", "Idempotency-Key", key);
        assertEquals(201, again.status());
        assertEquals(first.raw().body(), again.raw().body(), "the first answer again: the same device and token");
        assertEquals("true", again.header("Idempotent-Replayed"));
        assertEquals(first.header("Location"), again.header("Location"));
        problem(server.call("POST", "/api/v1/devices", admin, "{\"name\":\"other\"}", "Idempotency-Key", key), 409,
                "idempotency-key-reused");
        Reply without = server.call("POST", "/api/v1/devices", admin, "{\"name\":\"pump\"}");
        assertTrue(!without.body().at("/device/id").equals(first.body().at("/device/id")),
                "without a key: a new device each time");
        String token = first.body().get("token").asText();
        for (var row : server.idempotency.rows().entrySet()) {
            assertTrue(!row.getKey().contains(key), "the key is not stored");
            assertTrue(row.getValue().response() == null
                    || !new String(row.getValue().response(), java.nio.charset.StandardCharsets.ISO_8859_1).contains(token),
                    "the token is not stored in clear");
        }
        problem(server.call("POST", "/api/v1/devices", admin, "{}", "Idempotency-Key", "bad key with spaces"), 400,
                "invalid-idempotency-key");

        // commands: the same command (and answer) for the same key
        String cmd = "{\"name\":\"reboot\",\"persistent\":true}";
        Reply c1 = server.call("POST", "/api/v1/devices/" + first.body().at("/device/id").asText() + "/commands", admin, cmd,
                "Idempotency-Key", "cmd-1");
        assertEquals(202, c1.status(), c1.raw().body());
        Reply c2 = server.call("POST", "/api/v1/devices/" + first.body().at("/device/id").asText() + "/commands", admin, cmd,
                "Idempotency-Key", "cmd-1");
        assertEquals(c1.body().get("id"), c2.body().get("id"));

        // a 5xx frees the key: the retry runs again
        int rows = server.idempotency.rows().size();
        Reply slow = server.call("POST", "/api/v1/devices", admin, "{\"id\":\"slow-1\"}", "Idempotency-Key", "slow");
        assertEquals(503, slow.status(), slow.raw().body());
        assertEquals(rows, server.idempotency.rows().size(), "not kept");
    }

    @Test
    @Order(11)
    void shadowHistoryPagesAndStartsFromSnapshots() throws Exception {
        assertEquals(201, server.call("POST", "/api/v1/devices", admin, "{\"id\":\"s1\"}").status());
        List<java.time.Instant> after = new ArrayList<>();
        for (int i = 1; i <= 12; i++) {
            assertEquals(200, server.call("PATCH", "/api/v1/devices/s1/shadow/desired", admin, "{\"n\":" + i + "}",
                    "Content-Type", "application/merge-patch+json").status());
            after.add(java.time.Instant.now());
            Thread.sleep(5);
        }
        // the state after the 7th change: a snapshot (every 5 events) lies before it
        Reply at = server.call("GET", "/api/v1/devices/s1/shadow/history?at=" + after.get(6), admin, null);
        assertEquals(200, at.status(), at.raw().body());
        assertEquals(7, at.body().at("/shadow/desired/n").asInt(), at.raw().body());
        // pages of 5, newest first, walking back with the cursor
        List<Integer> seen = new ArrayList<>();
        String cursor = null;
        do {
            Reply page = server.call("GET", "/api/v1/devices/s1/shadow/history?limit=5"
                    + (cursor == null ? "" : "&cursor=" + cursor), admin, null);
            assertEquals(200, page.status(), page.raw().body());
            List<Integer> ns = new ArrayList<>();
            page.body().get("changes").forEach(c -> ns.add(c.at("/patch/n").asInt()));
            seen.addAll(0, ns);
            cursor = page.body().hasNonNull("nextCursor") ? page.body().get("nextCursor").asText() : null;
        } while (cursor != null);
        assertEquals(java.util.stream.IntStream.rangeClosed(1, 12).boxed().toList(), seen);
        problem(server.call("GET", "/api/v1/devices/s1/shadow/history?cursor=nope", admin, null), 400, "invalid-cursor");
        problem(server.call("GET", "/api/v1/devices/nobody/shadow/history", admin, null), 404, "device-not-found");
    }

    @Test
    @Order(99)
    void failedAuthenticationsAreLimitedPerAddressBeforeAnyRead() throws Exception {
        assertEquals(200, server.call("GET", "/api/v1/devices", admin, null).status()); // cached from here on
        int tries = 0;
        while (server.call("GET", "/api/v1/devices", "drv_guess_" + tries, null).status() == 401) {
            assertEquals(200, server.call("GET", "/api/v1/devices", admin, null).status()); // in use: stays cached
            tries++;
            assertTrue(tries <= BURST, "no limit after " + tries + " failures");
        }
        problem(server.call("GET", "/api/v1/devices", "drv_guess_again", null), 429, "too-many-auth-failures");
        // reads of these requests' keys only: a socket an earlier test left open revalidates its own key every 2 s
        int mark = server.access.readHashes.size();
        Set<String> asked = new java.util.HashSet<>(Set.of(Credentials.hash(admin),
                Credentials.hash("t")));
        List<CompletableFuture<Reply>> flood = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String guess = "drv_flood_" + i;
            asked.add(Credentials.hash(guess));
            flood.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return server.call("GET", "/api/v1/devices", guess, null);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        Set<String> codes = flood.stream().map(CompletableFuture::join).map(Reply::code).collect(Collectors.toSet());
        assertEquals(Set.of("too-many-auth-failures"), codes);
        assertEquals(List.of(), readsOf(asked, mark), "a blocked address costs no read");
        problem(server.call("POST", "/api/v1/device-api/telemetry", "t", "{\"t\":1}", "X-Device-Id", tenant + ":x"),
                429, "too-many-auth-failures");
        // the key this node knows still works from the blocked address (no read needed)
        assertEquals(200, server.call("GET", "/api/v1/devices", admin, null).status());
        assertEquals(List.of(), readsOf(asked, mark), "the known key was not read again");
    }

    /** The reads since the {@code mark}-th one of the hashes in {@code asked}. */
    private static List<String> readsOf(Set<String> asked, int mark) {
        List<String> all = new ArrayList<>(server.access.readHashes);
        return all.subList(mark, all.size()).stream().filter(asked::contains).toList();
    }

    private Set<String> runningTwins() throws Exception {
        ShardRegion.CurrentShardRegionState state = AskPattern.<org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery, ShardRegion.CurrentShardRegionState>ask(
                        ClusterSharding.get(server.system).shardState(),
                        replyTo -> new GetShardRegionState(Device.ENTITY_TYPE_KEY, replyTo), Duration.ofSeconds(5),
                        server.system.scheduler())
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        return state.getShards().stream().flatMap(s -> s.getEntityIds().stream()).collect(Collectors.toSet());
    }
}

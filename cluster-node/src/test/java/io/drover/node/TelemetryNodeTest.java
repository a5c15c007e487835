package io.drover.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import io.drover.persistence.TelemetrySample;
import io.drover.persistence.testing.CassandraExtension;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Telemetry end to end on two nodes forming a cluster: node A runs the MQTT broker, node B only HTTP.
 * A WebSocket client on B sees what a device publishes with mosquitto_pub to A; and with Cassandra
 * stopped (SIGSTOP) mid-ingest the acknowledgements stall, then resume, and nothing acknowledged is lost.
 */
@ExtendWith(CassandraExtension.class)
class TelemetryNodeTest {

    private static Main.Started nodeA;
    private static Main.Started nodeB;
    private static String platformKey;
    private String tenant;
    private String admin;

    @BeforeAll
    static void start() throws Exception {
        nodeA = TestNodes.start(Map.of());
        int portA = nodeA.system().settings().config().getInt("pekko.remote.artery.canonical.port");
        nodeB = TestNodes.start(Map.of(
                "pekko.cluster.seed-nodes", List.of("pekko://drover@127.0.0.1:" + portA),
                "drover.mqtt.embedded.enabled", false,
                "drover.node.data-dir", java.nio.file.Path.of("target", "test-node-b").toAbsolutePath().toString()));
        platformKey = TestHttp.platformKey(nodeA, "telemetry-test");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (Cluster.get(nodeB.system()).selfMember().status() != org.apache.pekko.cluster.MemberStatus.up()
                && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        TestNodes.stop(nodeB);
        TestNodes.stop(nodeA);
    }

    @BeforeEach
    void tenant() throws Exception {
        tenant = "tn-" + UUID.randomUUID().toString().substring(0, 8);
        admin = TestHttp.newTenant(nodeA, platformKey, tenant);
    }

    private String device(String id) throws Exception {
        return TestHttp.newDevice(nodeA, admin, id);
    }

    private int mosquittoPub(String device, String token, String message) throws Exception {
        return TestHttp.mosquittoPub(nodeA.started().mqtt().settings().port(), tenant, device, token,
                "devices/" + device + "/telemetry", message);
    }

    @Test
    void mosquittoPubOnOneNodeReachesAWebSocketOnTheOther() throws Exception {
        String token = device("ws1");
        BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
        WebSocket ws = TestWebSocket.open(nodeB.started().http().getPort(), admin, frames);
        ws.sendText("{\"type\":\"subscribe\",\"id\":\"s\",\"deviceIds\":[\"ws1\"]}", true).get();
        JsonNode ack = frames.poll(10, TimeUnit.SECONDS);
        assertNotNull(ack);
        assertEquals("subscribed", ack.get("type").asText(), ack.toString());
        // The subscription reaches node A's pub-sub registry by gossip (about a second): publish until it arrives.
        JsonNode got = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        int n = 0;
        while (got == null && System.nanoTime() < deadline) {
            assertEquals(0, mosquittoPub("ws1", token, "{\"temp\": " + (++n) + ".5}"));
            got = frames.poll(500, TimeUnit.MILLISECONDS);
        }
        assertNotNull(got, "no telemetry frame on node B");
        assertEquals("telemetry", got.get("type").asText());
        assertEquals("ws1", got.get("deviceId").asText());
        assertTrue(got.at("/series/temp/0/value").asDouble() > 1, got.toString());
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get();
        // and the query API of node B serves what node A stored
        JsonNode raw = TestHttp.call(nodeB, "GET", "/api/v1/devices/ws1/telemetry?keys=temp", admin, null, 200);
        assertEquals(n, raw.at("/series/temp").size());
        JsonNode latest = TestHttp.call(nodeB, "GET", "/api/v1/devices/ws1/telemetry/latest", admin, null, 200);
        assertEquals(n + 0.5, latest.at("/values/temp/value").asDouble());
    }

    private static Optional<Long> cassandraPid() throws Exception {
        Process p = new ProcessBuilder("ss", "-ltnpH", "sport = :" + CassandraExtension.port()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        Matcher m = Pattern.compile("pid=(\\d+)").matcher(out);
        return m.find() ? Optional.of(Long.parseLong(m.group(1))) : Optional.empty();
    }

    private static void signal(long pid, String sig) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).start().waitFor());
    }

    @Test
    void cassandraStoppedMidIngestStallsAcksThenNothingAcknowledgedIsLost() throws Exception {
        Optional<Long> pid = cassandraPid();
        Assumptions.assumeTrue(pid.isPresent(), "the test Cassandra's process is not visible here");
        String token = device("stall");
        Mqtt5AsyncClient c = MqttClient.builder().useMqttVersion5().identifier(tenant + ":stall")
                .serverHost("127.0.0.1").serverPort(nodeA.started().mqtt().settings().port()).buildAsync();
        c.connectWith().simpleAuth().username(tenant + ":stall").password(token.getBytes(StandardCharsets.UTF_8))
                .applySimpleAuth().send().get(10, TimeUnit.SECONDS);
        long base = System.currentTimeMillis() - 60_000;
        Map<Long, Long> sentAt = new ConcurrentHashMap<>();
        Map<Long, Long> ackedAt = new ConcurrentHashMap<>();
        Set<Long> failed = ConcurrentHashMap.newKeySet();
        List<CompletableFuture<?>> all = new ArrayList<>();
        long stopAt = 0;
        long contAt = 0;
        boolean stopped = false;
        try {
            for (long i = 0; i < 300; i++) {
                long id = i;
                sentAt.put(id, System.nanoTime());
                all.add(c.publishWith().topic("devices/stall/telemetry").qos(MqttQos.AT_LEAST_ONCE)
                        .payload(("{\"ts\":" + (base + i) + ",\"values\":{\"n\":" + i + "}}").getBytes(StandardCharsets.UTF_8))
                        .send().whenComplete((r, e) -> {
                            if (e == null && !r.getError().isPresent()) {
                                ackedAt.put(id, System.nanoTime());
                            } else {
                                failed.add(id);
                            }
                        }));
                Thread.sleep(20);
                if (i == 50) {
                    signal(pid.get(), "STOP");
                    stopped = true;
                    stopAt = System.nanoTime();
                }
                if (i == 200) { // 150 × 20 ms ≈ 3 s (and more) stopped, below the 10 s write timeout
                    // Taken before the signal: `kill` is a child process, and on a loaded machine Cassandra may
                    // resume, write and the ack arrive before that process has been reaped. (The STOP instant is
                    // taken after its signal, for the same reason the other way round: both are conservative.)
                    contAt = System.nanoTime();
                    signal(pid.get(), "CONT");
                    stopped = false;
                }
            }
        } finally {
            if (stopped) {
                signal(pid.get(), "CONT");
            }
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        // A message sent before the stop may have been written just before it and acknowledged a little later
        // (the node's ack path on a loaded machine): that is correct. A message sent after the stop cannot have
        // been written, so none of those may be acknowledged before the CONT.
        long stop = stopAt;
        long cont = contAt;
        List<String> ackedWhileStopped = new ArrayList<>();
        ackedAt.forEach((id, t) -> {
            if (sentAt.get(id) > stop && t < cont) {
                ackedWhileStopped.add(id + " (sent " + (sentAt.get(id) - stop) / 1_000_000 + " ms after the stop, acked "
                        + (t - stop) / 1_000_000 + " ms after it)");
            }
        });
        assertEquals(List.of(), ackedWhileStopped, "no message sent while Cassandra was stopped is acknowledged before the CONT");
        assertTrue(ackedAt.keySet().stream().anyMatch(id -> id > 60 && id < 200) , "the stalled ones were acknowledged after");
        // re-send what was not acknowledged (a device would), then every message is stored exactly once
        for (long id : failed) {
            c.publishWith().topic("devices/stall/telemetry").qos(MqttQos.AT_LEAST_ONCE)
                    .payload(("{\"ts\":" + (base + id) + ",\"values\":{\"n\":" + id + "}}").getBytes(StandardCharsets.UTF_8))
                    .send().get(30, TimeUnit.SECONDS);
        }
        c.disconnect().get(10, TimeUnit.SECONDS);
        List<TelemetrySample> rows = nodeA.started().persistence().telemetry().read(tenant, "stall", "n",
                Instant.ofEpochMilli(base), Instant.ofEpochMilli(base + 300), 1000).toCompletableFuture().get(30, TimeUnit.SECONDS);
        Set<Long> stored = new HashSet<>();
        rows.forEach(r -> assertTrue(stored.add(r.ts().toEpochMilli() - base), "one row per message"));
        for (long id : ackedAt.keySet()) {
            assertTrue(stored.contains(id), "acknowledged but not stored: " + id);
        }
        assertEquals(300, stored.size(), "every message stored once (" + failed.size() + " re-sent)");
    }
}

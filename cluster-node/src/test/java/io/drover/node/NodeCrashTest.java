package io.drover.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import io.drover.http.ApiKeys;
import io.drover.persistence.ApiKey;
import io.drover.persistence.TelemetrySample;
import io.drover.persistence.cassandra.CassandraAccessStore;
import io.drover.persistence.testing.CassandraExtension;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * DESIGN.md §2.1: a QoS 1 message the device saw acknowledged is durable. A node process is killed
 * with SIGKILL while a device publishes with 32 messages in flight; every message whose PUBACK the
 * device received must be in Cassandra afterwards, and sending the unacknowledged ones again after the
 * restart must not create a second row for anything.
 */
@ExtendWith(CassandraExtension.class)
class NodeCrashTest {

    private static final String KEY = "seq";

    @Test
    void killMinusNineLosesNoAcknowledgedMessage() throws Exception {
        String tenant = "crash-" + UUID.randomUUID().toString().substring(0, 8);
        try (CqlSession session = CqlSession.builder()
                .addContactPoint(new InetSocketAddress("127.0.0.1", CassandraExtension.port()))
                .withLocalDatacenter("datacenter1").build();
             NodeProcess node = new NodeProcess(Path.of("target", "crash-node").toAbsolutePath())) {
            String platform = new ApiKeys(new CassandraAccessStore(session, CassandraExtension.TEST_KEYSPACE), Clock.systemUTC())
                    .issue(ApiKey.PLATFORM_TENANT, ApiKey.Role.PLATFORM_ADMIN, "crash", Optional.empty())
                    .toCompletableFuture().get(30, TimeUnit.SECONDS).secret();
            node.start();
            String admin = post(node, "/api/v1/tenants", platform, "{\"id\":\"" + tenant + "\"}").at("/adminKey/key").asText();
            String token = post(node, "/api/v1/devices", admin, "{\"id\":\"pub\"}").get("token").asText();

            long base = System.currentTimeMillis() - 3_600_000;
            Set<Long> acked = ConcurrentHashMap.newKeySet();
            int sent = publishUntilKilled(node, tenant, token, base, acked);
            assertTrue(acked.size() >= 200, "enough was acknowledged before the kill: " + acked.size());

            node.start(); // same ports, same keyspace
            // the device sends again what it never saw acknowledged (and some it did: redelivery)
            Set<Long> resend = new HashSet<>();
            for (long i = 0; i < sent; i++) {
                if (!acked.contains(base + i) || i % 10 == 0) {
                    resend.add(base + i);
                }
            }
            Set<Long> ackedAfter = ConcurrentHashMap.newKeySet();
            publish(node, tenant, token, base, resend, ackedAfter);
            assertEquals(resend.size(), ackedAfter.size(), "after the restart every message is acknowledged");

            var store = io.drover.persistence.testing.TestStores.telemetry(session, CassandraExtension.TEST_KEYSPACE);
            List<TelemetrySample> rows = store.read(tenant, "pub", KEY, Instant.ofEpochMilli(base),
                    Instant.ofEpochMilli(base + sent), 100_000).toCompletableFuture().get(30, TimeUnit.SECONDS);
            Set<Long> stored = new HashSet<>();
            for (TelemetrySample r : rows) {
                assertTrue(stored.add(r.ts().toEpochMilli()), "one row per message: " + r.ts());
                assertEquals((double) (r.ts().toEpochMilli() - base), r.number(), "the value belongs to its message");
            }
            for (long ts : acked) {
                assertTrue(stored.contains(ts), "acknowledged before the kill but not stored: " + (ts - base));
            }
            assertEquals(sent, stored.size(), "every message is stored exactly once in the end");
            System.out.printf("kill -9: %d sent before the kill, %d acknowledged, %d stored after resending %d%n",
                    sent, acked.size(), stored.size(), resend.size());
        }
    }

    /** Publishes seq 0.. with 32 in flight; kills the node once 300 are acknowledged. Returns how many were sent. */
    private int publishUntilKilled(NodeProcess node, String tenant, String token, long base, Set<Long> acked) throws Exception {
        Mqtt3AsyncClient c = client(node, tenant, token);
        Semaphore inFlight = new Semaphore(32);
        int i = 0;
        boolean killed = false;
        while (true) {
            if (!killed && acked.size() >= 300) {
                node.kill9();
                killed = true;
            }
            if (!inFlight.tryAcquire(2, TimeUnit.SECONDS)) {
                break; // nothing completes any more: the node is gone
            }
            long ts = base + i;
            i++;
            send(c, base, ts).whenComplete((r, e) -> {
                if (e == null) {
                    acked.add(ts);
                    inFlight.release();
                }
            });
            if (killed && i > 100_000) {
                break;
            }
        }
        return i;
    }

    private void publish(NodeProcess node, String tenant, String token, long base, Set<Long> seqs, Set<Long> acked)
            throws Exception {
        Mqtt3AsyncClient c = client(node, tenant, token);
        Semaphore inFlight = new Semaphore(32);
        for (long ts : seqs) {
            inFlight.acquire();
            send(c, base, ts).whenComplete((r, e) -> {
                if (e == null) {
                    acked.add(ts);
                }
                inFlight.release();
            });
        }
        inFlight.acquire(32);
        c.disconnect().get(10, TimeUnit.SECONDS);
    }

    /** Message {@code ts - base} of the sequence: its ts is its identity, its value its number. */
    private static java.util.concurrent.CompletableFuture<?> send(Mqtt3AsyncClient c, long base, long ts) {
        return c.publishWith().topic("devices/pub/telemetry").qos(MqttQos.AT_LEAST_ONCE)
                .payload(("{\"ts\":" + ts + ",\"values\":{\"" + KEY + "\":" + (ts - base) + "}}").getBytes(StandardCharsets.UTF_8))
                .send();
    }

    private static Mqtt3AsyncClient client(NodeProcess node, String tenant, String token) throws Exception {
        Mqtt3AsyncClient c = MqttClient.builder().useMqttVersion3().identifier(tenant + ":pub")
                .serverHost("127.0.0.1").serverPort(node.mqttPort).buildAsync();
        c.connectWith().simpleAuth().username(tenant + ":pub").password(token.getBytes(StandardCharsets.UTF_8))
                .applySimpleAuth().send().get(30, TimeUnit.SECONDS);
        return c;
    }

    private static JsonNode post(NodeProcess node, String path, String key, String body) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + node.httpPort + path))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), r.body());
        return TestHttp.JSON.readTree(r.body());
    }
}

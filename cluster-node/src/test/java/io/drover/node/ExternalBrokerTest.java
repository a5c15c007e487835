package io.drover.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.drover.persistence.TelemetrySample;
import io.drover.persistence.testing.CassandraExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The same pipeline against Debian's Mosquitto (started here on a free loopback port): Pekko Connectors
 * MQTT with a persistent shared subscription, acknowledged to the broker after the write. Devices are
 * driven with mosquitto_pub / mosquitto_sub.
 */
@ExtendWith(CassandraExtension.class)
class ExternalBrokerTest {

    private static Process mosquitto;
    private static int port;
    private static Path dir;

    @BeforeAll
    static void startMosquitto() throws Exception {
        dir = Files.createDirectories(Path.of("target", "mosquitto").toAbsolutePath());
        port = TestNodes.freePort();
        Path conf = dir.resolve("mosquitto.conf");
        Files.writeString(conf, String.join("\n",
                "listener " + port + " 127.0.0.1",
                "allow_anonymous true",
                "persistence false",
                "max_inflight_messages 1000",
                "max_queued_messages 100000",
                ""));
        mosquitto = new ProcessBuilder("mosquitto", "-c", conf.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("mosquitto.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                break;
            } catch (java.io.IOException e) {
                if (System.nanoTime() > deadline || !mosquitto.isAlive()) {
                    throw new IllegalStateException("mosquitto did not start; see " + dir.resolve("mosquitto.log"));
                }
                Thread.sleep(50);
            }
        }
    }

    @AfterAll
    static void stopMosquitto() throws Exception {
        mosquitto.destroy();
        mosquitto.waitFor(10, TimeUnit.SECONDS);
    }

    private static Main.Started node() throws Exception {
        return TestNodes.start(Map.of(
                "drover.mqtt.external.enabled", true,
                "drover.mqtt.external.url", "tcp://127.0.0.1:" + port,
                "drover.mqtt.external.client-id", "drover-external-test"));
    }

    private static int pub(String clientTopicId, String topic, String message) throws Exception {
        Process p = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(port), "-q", "1",
                "-i", clientTopicId, "-t", topic, "-m", message).redirectErrorStream(true).start();
        p.waitFor(30, TimeUnit.SECONDS);
        return p.exitValue();
    }

    private static List<TelemetrySample> awaitStored(Main.Started node, String tenant, String device, String key, int n)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<TelemetrySample> rows;
        do {
            rows = node.started().persistence().telemetry().read(tenant, device, key, Instant.now().minusSeconds(7200),
                    Instant.now().plusSeconds(60), 10_000).toCompletableFuture().get(10, TimeUnit.SECONDS);
            if (rows.size() >= n) {
                return rows;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("only " + rows.size() + " of " + n + " rows arrived");
    }

    @Test
    void telemetryErrorsAndMessagesQueuedWhileTheNodeWasDown() throws Exception {
        String tenant = "ext-" + UUID.randomUUID().toString().substring(0, 8);
        String id = tenant + ":dev";
        Main.Started node = node();
        try {
            String platform = TestHttp.platformKey(node, "ext");
            String admin = TestHttp.call(node, "POST", "/api/v1/tenants", platform, "{\"id\":\"" + tenant + "\"}", 201)
                    .at("/adminKey/key").asText();
            TestHttp.call(node, "POST", "/api/v1/devices", admin, "{\"id\":\"dev\"}", 201);

            assertEquals(0, pub(id, "devices/" + id + "/telemetry", "{\"temp\":21.5}"));
            assertEquals(21.5, awaitStored(node, tenant, "dev", "temp", 1).get(0).number());

            var errors = com.hivemq.client.mqtt.MqttClient.builder().useMqttVersion3().identifier(id + "-listener")
                    .serverHost("127.0.0.1").serverPort(port).buildBlocking();
            errors.connect();
            try (var inbox = errors.publishes(com.hivemq.client.mqtt.MqttGlobalPublishFilter.ALL)) {
                errors.subscribeWith().topicFilter("devices/" + id + "/errors")
                        .qos(com.hivemq.client.mqtt.datatypes.MqttQos.AT_LEAST_ONCE).send(); // returns after SUBACK
                assertEquals(0, pub(id, "devices/" + id + "/telemetry", "{\"temp\":"));
                JsonNode err = TestHttp.JSON.readTree(inbox.receive(20, TimeUnit.SECONDS).orElseThrow().getPayloadAsBytes());
                assertEquals("malformed-json", err.get("code").asText());
            } finally {
                errors.disconnect();
            }
            assertEquals(0, pub(id, "devices/" + id + "/shadow/reported", "{\"fw\":\"3.0\"}"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            String fw;
            do {
                fw = TestHttp.call(node, "GET", "/api/v1/devices/dev/shadow", admin, null, 200).at("/reported/fw").asText();
            } while (!fw.equals("3.0") && System.nanoTime() < deadline && pause());
            assertEquals("3.0", fw, "the pipeline went on after the bad message");
        } finally {
            TestNodes.stop(node);
        }

        // the node is down: the broker keeps Drover's persistent session and queues for it
        long base = System.currentTimeMillis() - 60_000;
        List<Integer> codes = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            codes.add(pub(id, "devices/" + id + "/telemetry", "{\"ts\":" + (base + i) + ",\"values\":{\"q\":" + i + "}}"));
        }
        assertTrue(codes.stream().allMatch(c -> c == 0));
        Main.Started again = node();
        try {
            assertEquals(50, awaitStored(again, tenant, "dev", "q", 50).size(), "delivered after the node came back");
        } finally {
            TestNodes.stop(again);
        }
    }

    /** The next error the device gets on its error topic after {@code publish} ran. */
    private static String errorCode(String id, java.util.concurrent.Callable<Integer> publish) throws Exception {
        var errors = com.hivemq.client.mqtt.MqttClient.builder().useMqttVersion3().identifier(id + "-listener")
                .serverHost("127.0.0.1").serverPort(port).buildBlocking();
        errors.connect();
        try (var inbox = errors.publishes(com.hivemq.client.mqtt.MqttGlobalPublishFilter.ALL)) {
            errors.subscribeWith().topicFilter("devices/" + id + "/errors")
                    .qos(com.hivemq.client.mqtt.datatypes.MqttQos.AT_LEAST_ONCE).send();
            assertEquals(0, publish.call());
            return TestHttp.JSON.readTree(inbox.receive(20, TimeUnit.SECONDS).orElseThrow().getPayloadAsBytes())
                    .get("code").asText();
        } finally {
            errors.disconnect();
        }
    }

    @Test
    void messagesOfUnknownSuspendedOrDecommissionedDevicesAreRefusedAndNotStored() throws Exception {
        String tenant = "exr-" + UUID.randomUUID().toString().substring(0, 8);
        Main.Started node = node();
        try {
            String platform = TestHttp.platformKey(node, "ext-refuse");
            String admin = TestHttp.call(node, "POST", "/api/v1/tenants", platform, "{\"id\":\"" + tenant + "\"}", 201)
                    .at("/adminKey/key").asText();
            String ghost = tenant + ":ghost";
            assertEquals("unknown-device", errorCode(ghost, () -> pub(ghost, "devices/" + ghost + "/telemetry", "{\"t\":1}")));
            TestHttp.call(node, "POST", "/api/v1/devices", admin, "{\"id\":\"s1\"}", 201);
            String s1 = tenant + ":s1";
            assertEquals(0, pub(s1, "devices/" + s1 + "/telemetry", "{\"ok\":1}"));
            awaitStored(node, tenant, "s1", "ok", 1);
            TestHttp.call(node, "POST", "/api/v1/devices/s1/suspend", admin, null, 200);
            Thread.sleep(5_500); // the node's cache of "s1 may send" runs out (docs/mqtt.md)
            assertEquals("device-not-active", errorCode(s1, () -> pub(s1, "devices/" + s1 + "/telemetry", "{\"no\":1}")));
            assertEquals("device-not-active", errorCode(s1,
                    () -> pub(s1, "devices/" + s1 + "/shadow/reported", "{\"fw\":\"x\"}")));
            assertEquals(0, node.started().persistence().telemetry().read(tenant, "ghost", "t", Instant.now().minusSeconds(3600),
                    Instant.now().plusSeconds(60), 10).toCompletableFuture().get().size(), "nothing of the unknown device");
            assertEquals(0, node.started().persistence().telemetry().read(tenant, "s1", "no", Instant.now().minusSeconds(3600),
                    Instant.now().plusSeconds(60), 10).toCompletableFuture().get().size(), "nothing of the suspended one");
            assertTrue(TestHttp.call(node, "GET", "/api/v1/devices/s1/shadow", admin, null, 200).at("/reported/fw")
                    .isMissingNode(), "no reported state from a suspended device");
        } finally {
            TestNodes.stop(node);
        }
    }

    /** Polling interval of the await loops above. */
    private static boolean pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return true;
    }
}

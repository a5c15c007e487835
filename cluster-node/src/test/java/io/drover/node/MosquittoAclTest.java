package io.drover.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.suback.Mqtt5SubAckReasonCode;
import io.drover.persistence.TelemetrySample;
import io.drover.persistence.testing.CassandraExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The external-broker mode behind a Mosquitto that enforces Drover's topic rules itself: allow_anonymous false,
 * identities and ACLs from the dynamic-security plugin, set up with docs/mosquitto/drover-dynsec.sh exactly as
 * docs/mqtt.md tells an operator. A device reaches Drover only through its own topics; Drover's answers reach only
 * the device they are for; strangers are not let in.
 */
@ExtendWith(CassandraExtension.class)
class MosquittoAclTest {

    private static final String ADMIN_PASSWORD = "admin-secret";
    private static Process mosquitto;
    private static int port;
    private static Path dir;
    private static Main.Started node;
    private static String tenant;

    private static void run(String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("MOSQ_CTRL", "-h 127.0.0.1 -p " + port + " -u admin -P " + ADMIN_PASSWORD);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd) + ": " + out);
    }

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createDirectories(Path.of("target", "mosquitto-acl").toAbsolutePath());
        Files.deleteIfExists(dir.resolve("dynsec.json"));
        port = TestNodes.freePort();
        run("mosquitto_ctrl", "dynsec", "init", dir.resolve("dynsec.json").toString(), "admin", ADMIN_PASSWORD);
        // docs/mosquitto/mosquitto.conf, on a loopback port and with its files here
        String conf = Files.readString(Path.of("..", "docs", "mosquitto", "mosquitto.conf"))
                .replace("listener 1883", "listener " + port + " 127.0.0.1")
                .replace("/var/lib/mosquitto/dynamic-security.json", dir.resolve("dynsec.json").toString())
                .replace("persistence true", "persistence false")
                .replace("persistence_location /var/lib/mosquitto/", "");
        Files.writeString(dir.resolve("mosquitto.conf"), conf);
        mosquitto = new ProcessBuilder("mosquitto", "-c", dir.resolve("mosquitto.conf").toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("mosquitto.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                break;
            } catch (java.io.IOException e) {
                assertTrue(System.nanoTime() < deadline && mosquitto.isAlive(), "mosquitto did not start");
                Thread.sleep(50);
            }
        }
        String script = Path.of("..", "docs", "mosquitto", "drover-dynsec.sh").toAbsolutePath().toString();
        run("bash", script, "platform", "drover", "drover-secret");
        node = TestNodes.start(Map.of(
                "drover.mqtt.external.enabled", true,
                "drover.mqtt.external.url", "tcp://127.0.0.1:" + port,
                "drover.mqtt.external.username", "drover",
                "drover.mqtt.external.password", "drover-secret",
                "drover.mqtt.external.client-id", "drover-acl-test"));
        String platform = TestHttp.platformKey(node, "acl");
        tenant = "acl-" + UUID.randomUUID().toString().substring(0, 8);
        String admin = TestHttp.newTenant(node, platform, tenant);
        for (String d : new String[] {"d1", "d2"}) {
            String token = TestHttp.newDevice(node, admin, d);
            run("bash", script, "device", tenant + ":" + d, token);
            Files.writeString(dir.resolve(d + ".token"), token);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        TestNodes.stop(node);
        mosquitto.destroy();
        mosquitto.waitFor(10, TimeUnit.SECONDS);
    }

    private static Mqtt5BlockingClient device(String d, String clientId) throws Exception {
        String id = tenant + ":" + d;
        Mqtt5BlockingClient c = MqttClient.builder().useMqttVersion5().identifier(clientId).serverHost("127.0.0.1")
                .serverPort(port).buildBlocking();
        c.connectWith().simpleAuth().username(id).password(Files.readAllBytes(dir.resolve(d + ".token")))
                .applySimpleAuth().send();
        return c;
    }

    private static List<TelemetrySample> stored(String d, String key) throws Exception {
        return node.started().persistence().telemetry().read(tenant, d, key, Instant.now().minusSeconds(3600),
                Instant.now().plusSeconds(60), 100).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static List<Mqtt5SubAckReasonCode> refusedSubscribe(Mqtt5BlockingClient c, String filter) {
        return org.junit.jupiter.api.Assertions.assertThrows(
                com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5SubAckException.class,
                () -> c.subscribeWith().topicFilter(filter).qos(MqttQos.AT_LEAST_ONCE).send())
                .getMqttMessage().getReasonCodes();
    }

    @Test
    void aDeviceReachesDroverOnlyThroughItsOwnTopics() throws Exception {
        String d1 = tenant + ":d1";
        String d2 = tenant + ":d2";
        Mqtt5BlockingClient c = device("d1", d1);
        try (var inbox = c.publishes(MqttGlobalPublishFilter.ALL)) {
            assertEquals(List.of(Mqtt5SubAckReasonCode.GRANTED_QOS_1), c.subscribeWith()
                    .topicFilter("devices/" + d1 + "/errors").qos(MqttQos.AT_LEAST_ONCE).send().getReasonCodes());
            assertEquals(List.of(Mqtt5SubAckReasonCode.NOT_AUTHORIZED), refusedSubscribe(c, "devices/" + d2 + "/errors"),
                    "another device's error topic");
            assertEquals(List.of(Mqtt5SubAckReasonCode.NOT_AUTHORIZED), refusedSubscribe(c, "devices/+/telemetry"),
                    "other devices' telemetry");
            c.publishWith().topic("devices/" + d1 + "/telemetry").qos(MqttQos.AT_LEAST_ONCE)
                    .payload("{\"own\":1}".getBytes()).send();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (stored("d1", "own").isEmpty()) {
                assertTrue(System.nanoTime() < deadline, "its own telemetry was not stored");
                Thread.sleep(100);
            }
            // posing as d2 on d2's topic: Mosquitto drops it (MQTT 5: not authorized), Drover never sees it
            try {
                c.publishWith().topic("devices/" + d2 + "/telemetry").qos(MqttQos.AT_LEAST_ONCE)
                        .payload("{\"forged\":1}".getBytes()).send();
            } catch (com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubAckException e) {
                // the broker said so: fine
            }
            // Drover's answer to a bad message reaches the device through the broker's rules too
            c.publishWith().topic("devices/" + d1 + "/telemetry").qos(MqttQos.AT_LEAST_ONCE)
                    .payload("{\"bad".getBytes()).send();
            JsonNode err = TestHttp.JSON.readTree(inbox.receive(20, TimeUnit.SECONDS).orElseThrow().getPayloadAsBytes());
            assertEquals("malformed-json", err.get("code").asText());
            Thread.sleep(1000);
            assertTrue(stored("d2", "forged").isEmpty(), "a device wrote as another");
        } finally {
            c.disconnect();
        }
    }

    @Test
    void strangersAndBorrowedIdentitiesAreRefused() throws Exception {
        var anonymous = MqttClient.builder().useMqttVersion5().identifier("x").serverHost("127.0.0.1").serverPort(port)
                .buildBlocking();
        assertEquals("NOT_AUTHORIZED", org.junit.jupiter.api.Assertions.assertThrows(
                com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5ConnAckException.class, anonymous::connect)
                .getMqttMessage().getReasonCode().name(), "allow_anonymous false");
        // d1's credentials with another client id (the client id is bound to the username)
        var ex = org.junit.jupiter.api.Assertions.assertThrows(
                com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5ConnAckException.class, () -> device("d1", tenant + ":d2"));
        assertTrue(ex.getMqttMessage().getReasonCode().isError());
    }
}

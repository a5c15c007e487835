package io.drover.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5ConnAckException;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubAckException;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5SubAckException;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAckReasonCode;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.puback.Mqtt5PubAckReasonCode;
import io.drover.persistence.TelemetrySample;
import io.drover.persistence.testing.CassandraExtension;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Devices over MQTT against a whole node (embedded HiveMQ CE, real Cassandra), driven by real
 * clients: Debian's mosquitto_pub and the HiveMQ MQTT client (MQTT 5, for one connection that
 * publishes and receives its error messages).
 */
@ExtendWith(CassandraExtension.class)
class MqttDeviceTest {

    private static Main.Started node;
    private static String platformKey;
    private static int mqttPort;

    private String tenant;
    private String admin;

    @BeforeAll
    static void start() throws Exception {
        node = TestNodes.start(Map.of());
        mqttPort = node.started().mqtt().settings().port();
        platformKey = TestHttp.platformKey(node, "mqtt-test");
    }

    @AfterAll
    static void stop() throws Exception {
        TestNodes.stop(node);
    }

    @BeforeEach
    void tenant() throws Exception {
        tenant = "mq-" + UUID.randomUUID().toString().substring(0, 8);
        admin = TestHttp.newTenant(node, platformKey, tenant);
    }

    private String device(String id) throws Exception {
        return TestHttp.newDevice(node, admin, id);
    }

    /** mosquitto_pub as the device; returns its exit code (0 = published and acknowledged). */
    private int mosquittoPub(String device, String password, String topic, String message, String... extra) throws Exception {
        return TestHttp.mosquittoPub(mqttPort, tenant, device, password, topic, message, extra);
    }

    private Mqtt5BlockingClient mqtt5(String device, String token) {
        Mqtt5BlockingClient c = MqttClient.builder().useMqttVersion5().identifier(tenant + ":" + device)
                .serverHost("127.0.0.1").serverPort(mqttPort).buildBlocking();
        c.connectWith().simpleAuth().username(tenant + ":" + device).password(token.getBytes(StandardCharsets.UTF_8))
                .applySimpleAuth().send();
        return c;
    }

    private List<TelemetrySample> stored(String device, String key) throws Exception {
        return node.started().persistence().telemetry().read(tenant, device, key, Instant.now().minusSeconds(3600 * 48),
                Instant.now().plusSeconds(3600), 100).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void acknowledgedTelemetryIsInCassandraAndRedeliveryMakesNoDuplicate() throws Exception {
        String token = device("t1");
        long ts = System.currentTimeMillis() - 1000;
        String msg = "{\"ts\":" + ts + ",\"values\":{\"temp\":21.5,\"door\":\"open\",\"on\":true}}";
        assertEquals(0, mosquittoPub("t1", token, "devices/t1/telemetry", msg));
        // the PUBACK came after the write: the rows are there now, without waiting
        List<TelemetrySample> temp = stored("t1", "temp");
        assertEquals(1, temp.size());
        assertEquals(21.5, temp.get(0).number());
        assertEquals(ts, temp.get(0).ts().toEpochMilli());
        assertEquals("open", stored("t1", "door").get(0).text());
        assertEquals(Boolean.TRUE, stored("t1", "on").get(0).bool());
        assertEquals(0, mosquittoPub("t1", token, "devices/t1/telemetry", msg), "the same message again");
        assertEquals(1, stored("t1", "temp").size(), "re-delivery is an idempotent upsert");
        assertEquals(0, mosquittoPub("t1", token, "devices/t1/telemetry", "{\"temp\":22}"), "plain object, server time");
        assertEquals(2, stored("t1", "temp").size());
    }

    @Test
    void onlyKnownActiveDevicesWithTheirTokenConnect() throws Exception {
        String token = device("a1");
        assertEquals(0, mosquittoPub("a1", token, "devices/a1/telemetry", "{\"x\":1}"));
        assertEquals(4, mosquittoPub("a1", token + "x", "devices/a1/telemetry", "{\"x\":1}"), "wrong token: bad user name or password");
        assertEquals(5, mosquittoPub("nobody", token, "devices/nobody/telemetry", "{\"x\":1}"), "unknown device: not authorised");
        TestHttp.call(node, "POST", "/api/v1/devices/a1/suspend", admin, null, 200);
        assertEquals(5, mosquittoPub("a1", token, "devices/a1/telemetry", "{\"x\":1}"), "suspended: not authorised");
        TestHttp.call(node, "POST", "/api/v1/devices/a1/activate", admin, null, 200);
        assertEquals(0, mosquittoPub("a1", token, "devices/a1/telemetry", "{\"x\":2}"));
        String rotated = TestHttp.call(node, "POST", "/api/v1/devices/a1/credentials/rotate", admin, null, 200).get("token").asText();
        assertEquals(4, mosquittoPub("a1", token, "devices/a1/telemetry", "{\"x\":3}"), "the old token stops working");
        assertEquals(0, mosquittoPub("a1", rotated, "devices/a1/telemetry", "{\"x\":3}"));
        TestHttp.call(node, "DELETE", "/api/v1/devices/a1", admin, null, 204);
        assertEquals(5, mosquittoPub("a1", rotated, "devices/a1/telemetry", "{\"x\":4}"), "decommissioned: not authorised");
        Mqtt5ConnAckException e = assertThrows(Mqtt5ConnAckException.class, () -> mqtt5("a1", rotated));
        assertEquals(Mqtt5ConnAckReasonCode.NOT_AUTHORIZED, e.getMqttMessage().getReasonCode());
        assertTrue(TestHttp.metrics(node).contains("drover_mqtt_connects_total{outcome=\"bad-credentials\"}"));
    }

    @Test
    void publishAndSubscribeOutsideTheDevicesOwnTopicsAreRefused() throws Exception {
        String token = device("o1");
        device("o2");
        assertEquals(7, mosquittoPub("o1", token, "devices/o2/telemetry", "{\"x\":1}"), "MQTT 3: disconnected");
        Mqtt5BlockingClient p = mqtt5("o1", token);
        Mqtt5PubAckException pub = assertThrows(Mqtt5PubAckException.class, () -> p.publishWith()
                .topic("devices/o2/telemetry").qos(MqttQos.AT_LEAST_ONCE).payload("{\"x\":1}".getBytes()).send());
        assertEquals(Mqtt5PubAckReasonCode.NOT_AUTHORIZED, pub.getMqttMessage().getReasonCode());
        // HiveMQ then disconnects an MQTT 5 client too
        assertDisconnected(p, "a device that publishes outside its topics is disconnected");

        Mqtt5BlockingClient c = mqtt5("o1", token);
        try {
            for (String filter : List.of("devices/+/telemetry", "#", "$SYS/#", "devices/o2/errors", "devices/o1/telemetry",
                    "devices/o1/#")) {
                assertThrows(Mqtt5SubAckException.class,
                        () -> c.subscribeWith().topicFilter(filter).qos(MqttQos.AT_LEAST_ONCE).send(), filter);
            }
            c.subscribeWith().topicFilter("devices/o1/errors").qos(MqttQos.AT_LEAST_ONCE).send(); // its own: fine
        } finally {
            c.disconnect();
        }
        assertEquals(List.of(), stored("o2", "x"), "nothing reached the other device");
        assertTrue(TestHttp.metrics(node).contains("drover_mqtt_refused_total{action=\"subscribe\"}"));
    }

    @Test
    void badInputIsAnsweredOnTheErrorTopicAndTheDeviceGoesOn() throws Exception {
        String token = device("e1");
        Mqtt5BlockingClient c = mqtt5("e1", token);
        try (Mqtt5BlockingClient.Mqtt5Publishes inbox = c.publishes(MqttGlobalPublishFilter.ALL)) {
            c.subscribeWith().topicFilter("devices/e1/errors").qos(MqttQos.AT_LEAST_ONCE).send();
            Map<String, String> cases = Map.of(
                    "{\"temp\":", "malformed-json",
                    "{\"temp\":null}", "invalid-value",
                    "[1,2]", "invalid-payload",
                    "{\"ts\":\"yesterday\",\"values\":{\"a\":1}}", "invalid-timestamp",
                    "{\"ts\":0,\"values\":{\"a\":1}}", "timestamp-too-old",
                    "{\"bad key!\":1}", "invalid-key",
                    "{\"blob\":\"" + "x".repeat(20_000) + "\"}", "payload-too-large");
            for (Map.Entry<String, String> e : cases.entrySet()) {
                // taken (acknowledged, so the device does not send it forever) and explained
                c.publishWith().topic("devices/e1/telemetry").qos(MqttQos.AT_LEAST_ONCE)
                        .payload(e.getKey().getBytes(StandardCharsets.UTF_8)).send();
                Mqtt5Publish err = inbox.receive(10, TimeUnit.SECONDS).orElseThrow(() -> new AssertionError("no error for " + e));
                JsonNode body = TestHttp.JSON.readTree(err.getPayloadAsBytes());
                assertEquals(e.getValue(), body.get("code").asText(), body.toString());
                assertEquals("devices/e1/telemetry", body.get("topic").asText());
            }
            c.publishWith().topic("devices/e1/shadow/reported").qos(MqttQos.AT_LEAST_ONCE).payload("nope".getBytes()).send();
            assertEquals("malformed-json", TestHttp.JSON.readTree(inbox.receive(10, TimeUnit.SECONDS).orElseThrow()
                    .getPayloadAsBytes()).get("code").asText());
            // the same connection and the node go on
            c.publishWith().topic("devices/e1/telemetry").qos(MqttQos.AT_LEAST_ONCE).payload("{\"ok\":1}".getBytes()).send();
        } finally {
            c.disconnect();
        }
        assertEquals(1, stored("e1", "ok").size());
        assertTrue(TestHttp.metrics(node).contains("drover_mqtt_messages_total{outcome=\"malformed-json\",route=\"telemetry\"}"));
    }

    /** Waits (up to 10 s) for the broker to end the client's connection. */
    private static void assertDisconnected(Mqtt5BlockingClient client, String why) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (client.getState().isConnected() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(!client.getState().isConnected(), why);
    }

    /** Polls the device over REST until {@code check} holds (no fixed sleeps). */
    private JsonNode awaitDevice(String id, java.util.function.Predicate<JsonNode> check) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        JsonNode d;
        do {
            d = TestHttp.call(node, "GET", "/api/v1/devices/" + id, admin, null, 200);
            if (check.test(d)) {
                return d;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("device never reached the expected state: " + d);
    }

    @Test
    void connectivityIsRecordedInTheTwin() throws Exception {
        String token = device("c1");
        JsonNode before = TestHttp.call(node, "GET", "/api/v1/devices/c1", admin, null, 200);
        assertEquals(false, before.at("/connectivity/online").asBoolean());
        assertEquals("provisioned", before.get("state").asText());
        Mqtt5BlockingClient c = mqtt5("c1", token);
        JsonNode online = awaitDevice("c1", d -> d.at("/connectivity/online").asBoolean());
        assertEquals("active", online.get("state").asText(), "the first connection activates the device");
        assertTrue(online.at("/connectivity/node").asText().startsWith("pekko://drover@"));
        assertTrue(online.at("/connectivity/lastConnectedAt").isTextual());
        c.disconnect();
        JsonNode offline = awaitDevice("c1", d -> !d.at("/connectivity/online").asBoolean());
        assertEquals("client-disconnected", offline.at("/connectivity/lastDisconnectReason").asText());
        assertTrue(offline.at("/connectivity/lastDisconnectedAt").isTextual());
    }

    @Test
    void desiredChangesReachTheDeviceAndAnOfflineDeviceCatchesUp() throws Exception {
        String token = device("d1");
        Mqtt5BlockingClient c = mqtt5("d1", token);
        try (Mqtt5BlockingClient.Mqtt5Publishes inbox = c.publishes(MqttGlobalPublishFilter.ALL)) {
            c.subscribeWith().topicFilter("devices/d1/shadow/desired").qos(MqttQos.AT_LEAST_ONCE).send();
            awaitDevice("d1", d -> d.at("/connectivity/online").asBoolean());
            TestHttp.call(node, "PATCH", "/api/v1/devices/d1/shadow/desired", admin, "{\"temp\":21}", 200);
            JsonNode push = TestHttp.JSON.readTree(inbox.receive(10, TimeUnit.SECONDS).orElseThrow().getPayloadAsBytes());
            assertEquals(1, push.get("version").asInt());
            assertEquals("{\"temp\":21}", push.get("delta").toString());
        } finally {
            c.disconnect();
        }
        awaitDevice("d1", d -> !d.at("/connectivity/online").asBoolean());
        TestHttp.call(node, "PATCH", "/api/v1/devices/d1/shadow/desired", admin, "{\"mode\":\"eco\"}", 200);
        Mqtt5BlockingClient back = mqtt5("d1", token);
        try (Mqtt5BlockingClient.Mqtt5Publishes inbox = back.publishes(MqttGlobalPublishFilter.ALL)) {
            back.subscribeWith().topicFilter("devices/d1/shadow/desired").qos(MqttQos.AT_LEAST_ONCE).send();
            JsonNode push = TestHttp.JSON.readTree(inbox.receive(10, TimeUnit.SECONDS).orElseThrow().getPayloadAsBytes());
            assertEquals(2, push.get("version").asInt());
            assertEquals("{\"temp\":21,\"mode\":\"eco\"}", push.get("delta").toString(), "what it missed while offline");
        } finally {
            back.disconnect();
        }
    }

    @Test
    void suspendingADeviceEndsItsSession() throws Exception {
        String token = device("k1");
        Mqtt5BlockingClient c = mqtt5("k1", token);
        awaitDevice("k1", d -> d.at("/connectivity/online").asBoolean());
        TestHttp.call(node, "POST", "/api/v1/devices/k1/suspend", admin, null, 200);
        assertDisconnected(c, "the suspended device was disconnected");
        awaitDevice("k1", d -> !d.at("/connectivity/online").asBoolean());
    }

    // ---------------------------------------------------------------- commands (RPC)

    private java.util.concurrent.CompletableFuture<JsonNode> sendCommandAsync(String device, String body, int expect) {
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return TestHttp.call(node, "POST", "/api/v1/devices/" + device + "/commands", admin, body, expect);
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
    }

    @Test
    void oneWayAndTwoWayCommandsWithADuplicateAnswerIgnored() throws Exception {
        String token = device("r1");
        Mqtt5BlockingClient c = mqtt5("r1", token);
        try (Mqtt5BlockingClient.Mqtt5Publishes inbox = c.publishes(MqttGlobalPublishFilter.ALL)) {
            c.subscribeWith().topicFilter("devices/r1/commands/+").qos(MqttQos.AT_LEAST_ONCE).send();
            awaitDevice("r1", d -> d.at("/connectivity/online").asBoolean());

            JsonNode oneWay = TestHttp.call(node, "POST", "/api/v1/devices/r1/commands", admin,
                    "{\"id\":\"blink-1\",\"name\":\"blink\",\"params\":{\"times\":3}}", 202);
            assertEquals("delivered", oneWay.get("status").asText());
            Mqtt5Publish got = inbox.receive(10, TimeUnit.SECONDS).orElseThrow();
            assertEquals("devices/r1/commands/blink-1", got.getTopic().toString());
            JsonNode cmd = TestHttp.JSON.readTree(got.getPayloadAsBytes());
            assertEquals("blink", cmd.get("name").asText());
            assertEquals(3, cmd.at("/params/times").asInt());

            var pending = sendCommandAsync("r1", "{\"id\":\"temp-1\",\"name\":\"read-temp\",\"twoWay\":true,\"timeoutSeconds\":10}", 200);
            Mqtt5Publish ask = inbox.receive(10, TimeUnit.SECONDS).orElseThrow();
            assertEquals("devices/r1/commands/temp-1", ask.getTopic().toString());
            c.publishWith().topic("devices/r1/commands/temp-1/response").qos(MqttQos.AT_LEAST_ONCE)
                    .payload("{\"celsius\":21.5}".getBytes()).send();
            JsonNode answered = pending.get(15, TimeUnit.SECONDS);
            assertEquals("responded", answered.get("status").asText());
            assertEquals(21.5, answered.at("/response/celsius").asDouble());
            c.publishWith().topic("devices/r1/commands/temp-1/response").qos(MqttQos.AT_LEAST_ONCE)
                    .payload("{\"celsius\":99}".getBytes()).send();
            assertEquals(21.5, TestHttp.call(node, "GET", "/api/v1/devices/r1/commands/temp-1", admin, null, 200)
                    .at("/response/celsius").asDouble(), "a duplicate answer is ignored");

            JsonNode timedOut = TestHttp.call(node, "POST", "/api/v1/devices/r1/commands", admin,
                    "{\"id\":\"slow-1\",\"name\":\"x\",\"twoWay\":true,\"timeoutSeconds\":1}", 504);
            assertEquals("command-timeout", timedOut.get("code").asText());
            assertEquals("slow-1", timedOut.get("commandId").asText());
            JsonNode later = TestHttp.call(node, "GET", "/api/v1/devices/r1/commands/slow-1", admin, null, 200);
            assertEquals("expired", later.get("status").asText(),
                    "its final status is there to see later: delivered, unanswered within its timeout, so expired");
            assertTrue(later.hasNonNull("deliveredAt"), later.toString());
        } finally {
            c.disconnect();
        }
    }

    @Test
    void persistentCommandsWaitForTheDeviceUntilTheirTtl() throws Exception {
        String token = device("q1");
        assertEquals("device-offline", TestHttp.call(node, "POST", "/api/v1/devices/q1/commands", admin,
                "{\"name\":\"x\"}", 409).get("code").asText());
        JsonNode queued = TestHttp.call(node, "POST", "/api/v1/devices/q1/commands", admin,
                "{\"id\":\"fw-1\",\"name\":\"update\",\"persistent\":true,\"ttlSeconds\":600}", 202);
        assertEquals("requested", queued.get("status").asText());
        TestHttp.call(node, "POST", "/api/v1/devices/q1/commands", admin,
                "{\"id\":\"short-1\",\"name\":\"x\",\"persistent\":true,\"ttlSeconds\":1}", 202);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String status;
        do {
            Thread.sleep(200);
            status = TestHttp.call(node, "GET", "/api/v1/devices/q1/commands/short-1", admin, null, 200).get("status").asText();
        } while (!status.equals("expired") && System.nanoTime() < deadline);
        assertEquals("expired", status);

        Mqtt5BlockingClient c = mqtt5("q1", token);
        try (Mqtt5BlockingClient.Mqtt5Publishes inbox = c.publishes(MqttGlobalPublishFilter.ALL)) {
            c.subscribeWith().topicFilter("devices/q1/commands/+").qos(MqttQos.AT_LEAST_ONCE).send();
            Mqtt5Publish got = inbox.receive(10, TimeUnit.SECONDS).orElseThrow(() -> new AssertionError("not delivered"));
            assertEquals("devices/q1/commands/fw-1", got.getTopic().toString());
            Optional<Mqtt5Publish> more = inbox.receive(1, TimeUnit.SECONDS);
            assertTrue(more.isEmpty(), "nothing else is delivered (the expired command never): "
                    + more.map(m -> m.getTopic().toString()).orElse(""));
        } finally {
            c.disconnect();
        }
        JsonNode list = TestHttp.call(node, "GET", "/api/v1/devices/q1/commands", admin, null, 200);
        assertEquals(2, list.get("items").size());
        assertEquals("delivered", TestHttp.call(node, "GET", "/api/v1/devices/q1/commands/fw-1", admin, null, 200)
                .get("status").asText());
    }

    @Test
    void reportedShadowOverMqttAndShadowGet() throws Exception {
        String token = device("s1");
        TestHttp.call(node, "PATCH", "/api/v1/devices/s1/shadow/desired", admin, "{\"temp\":22,\"mode\":\"eco\"}", 200);
        assertEquals(0, mosquittoPub("s1", token, "devices/s1/shadow/reported", "{\"temp\":22,\"fw\":\"1.0\"}"));
        JsonNode shadow = TestHttp.call(node, "GET", "/api/v1/devices/s1/shadow", admin, null, 200);
        assertEquals(2, shadow.get("version").asInt(), "the PUBACK came after the twin persisted");
        assertEquals("1.0", shadow.at("/reported/fw").asText());
        assertEquals("{\"mode\":\"eco\"}", shadow.get("delta").toString());

        Mqtt5BlockingClient c = mqtt5("s1", token);
        try (Mqtt5BlockingClient.Mqtt5Publishes inbox = c.publishes(MqttGlobalPublishFilter.ALL)) {
            c.subscribeWith().topicFilter("devices/s1/shadow/get/accepted").qos(MqttQos.AT_LEAST_ONCE).send();
            c.publishWith().topic("devices/s1/shadow/get").qos(MqttQos.AT_LEAST_ONCE).send();
            JsonNode got = TestHttp.JSON.readTree(inbox.receive(10, TimeUnit.SECONDS).orElseThrow().getPayloadAsBytes());
            assertEquals(2, got.get("version").asInt());
            assertEquals("eco", got.at("/delta/mode").asText());
            assertEquals(22, got.at("/reported/temp").asInt());
        } finally {
            c.disconnect();
        }
    }
}

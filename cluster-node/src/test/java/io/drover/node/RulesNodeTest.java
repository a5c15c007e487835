package io.drover.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.drover.persistence.testing.CassandraExtension;
import io.drover.persistence.testing.Eventually;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Rules end to end on a real node: real Cassandra (journal, telemetry, the alarm list's projection), the embedded
 * broker, mosquitto_pub as the device and a WebSocket client as the operator.
 */
@ExtendWith(CassandraExtension.class)
class RulesNodeTest {

    private static Main.Started node;
    private static String platformKey;
    private String tenant;
    private String admin;

    @BeforeAll
    static void start() throws Exception {
        node = TestNodes.start(Map.of("drover.node.data-dir",
                java.nio.file.Path.of("target", "test-node-rules").toAbsolutePath().toString()));
        platformKey = TestHttp.platformKey(node, "rules-test");
    }

    @AfterAll
    static void stop() throws Exception {
        TestNodes.stop(node);
    }

    @BeforeEach
    void tenant() throws Exception {
        tenant = "ru-" + UUID.randomUUID().toString().substring(0, 8);
        admin = TestHttp.newTenant(node, platformKey, tenant);
    }

    private void publish(String device, String token, double temperature) throws Exception {
        long ts = System.currentTimeMillis();
        assertEquals(0, TestHttp.mosquittoPub(node.started().mqtt().settings().port(), tenant, device, token,
                "devices/" + device + "/telemetry", "{\"ts\":" + ts + ",\"values\":{\"temperature\":" + temperature + "}}"));
    }

    private WebSocket alarmsSocket(BlockingQueue<JsonNode> frames) throws Exception {
        WebSocket ws = TestWebSocket.open(node.started().http().getPort(), admin, frames);
        ws.sendText("{\"type\":\"subscribe\",\"id\":\"a\",\"alarms\":true}", true).get();
        JsonNode ack = frames.poll(10, TimeUnit.SECONDS);
        assertNotNull(ack);
        assertEquals("subscribed", ack.get("type").asText(), ack.toString());
        return ws;
    }

    private JsonNode nextAlarm(BlockingQueue<JsonNode> frames, Duration within) throws Exception {
        JsonNode f = frames.poll(within.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(f, "no alarm frame within " + within);
        assertEquals("alarm", f.get("type").asText(), f.toString());
        return f.get("alarm");
    }

    @Test
    void temperatureAbove80For3sRaisesOneAlarmOnRestAndWebSocketAndClearsWhenItFalls() throws Exception {
        String token = TestHttp.newDevice(node, admin, "r1");
        JsonNode rule = TestHttp.call(node, "POST", "/api/v1/rules", admin, """
                {"name":"overheat","trigger":{"deviceIds":["r1"]},"condition":"temperature > 80","for":"3s",
                 "actions":[{"type":"alarm","alarmType":"overheat","severity":"major"}]}""", 201);
        assertEquals(1, rule.get("version").asInt());
        BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
        WebSocket ws = alarmsSocket(frames);
        Instant first = Instant.now();
        publish("r1", token, 85);
        for (int i = 0; i < 4; i++) {
            Thread.sleep(500); // the device keeps reporting while it is hot
            publish("r1", token, 86 + i);
        }
        JsonNode raised = nextAlarm(frames, Duration.ofSeconds(10));
        assertEquals("active", raised.get("status").asText());
        assertEquals("overheat", raised.get("type").asText());
        assertEquals("r1", raised.get("deviceId").asText());
        assertEquals(rule.get("id").asText(), raised.get("ruleId").asText());
        Duration held = Duration.between(first, Instant.parse(raised.get("firstSeenAt").asText()));
        assertTrue(held.toMillis() >= 2_900 && held.toMillis() <= 4_000, "raised 3 s after the first hot message: " + held);
        assertNull(frames.poll(500, TimeUnit.MILLISECONDS), "one alarm, not one per hot message");
        JsonNode listed = Eventually.await("the alarm on REST", Duration.ofSeconds(15),
                () -> TestHttp.call(node, "GET", "/api/v1/alarms?status=active", admin, null, 200).get("items"),
                a -> a.size() == 1);
        assertEquals(raised.get("id").asText(), listed.get(0).get("id").asText());

        publish("r1", token, 60);
        JsonNode cleared = nextAlarm(frames, Duration.ofSeconds(10));
        assertEquals("cleared", cleared.get("status").asText());
        assertEquals(raised.get("id").asText(), cleared.get("id").asText());
        Eventually.await("the alarm cleared on REST", Duration.ofSeconds(15),
                () -> TestHttp.call(node, "GET", "/api/v1/alarms?status=cleared&deviceId=r1", admin, null, 200)
                        .get("items"), a -> a.size() == 1);
        assertEquals(0, TestHttp.call(node, "GET", "/api/v1/alarms?status=active", admin, null, 200).get("items").size());
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get();
    }

    @Test
    void aFlappingAlarmIsOneNotificationNotOnePerChange() throws Exception {
        String token = TestHttp.newDevice(node, admin, "f1");
        TestHttp.call(node, "POST", "/api/v1/rules", admin, """
                {"name":"toggle","condition":"temperature > 80",
                 "actions":[{"type":"alarm","alarmType":"toggle","severity":"minor"}]}""", 201);
        BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
        WebSocket ws = alarmsSocket(frames);
        for (int i = 0; i < 12; i++) {
            publish("f1", token, i % 2 == 0 ? 90 : 10);
        }
        List<JsonNode> got = new ArrayList<>();
        JsonNode f;
        while ((f = frames.poll(3, TimeUnit.SECONDS)) != null) {
            got.add(f.get("alarm"));
        }
        // drover.rules.flapping.changes = 5: raise, clear, raise, clear, then the 5th change makes it flapping
        assertEquals(5, got.size(), got.toString());
        JsonNode last = got.get(4);
        assertTrue(last.get("flapping").asBoolean(), last.toString());
        assertEquals("active", last.get("status").asText());
        JsonNode now = Eventually.await("the flapping alarm counted the rest", Duration.ofSeconds(15),
                () -> TestHttp.call(node, "GET", "/api/v1/alarms/" + last.get("id").asText(), admin, null, 200),
                a -> a.get("flaps").asInt() == 7);
        assertTrue(now.get("flapping").asBoolean());
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get();
    }

    @Test
    void aPublishActionReachesTheDevicesNotificationsTopic() throws Exception {
        String token = TestHttp.newDevice(node, admin, "n1");
        TestHttp.call(node, "POST", "/api/v1/rules", admin, """
                {"name":"tell the device","condition":"temperature > 80",
                 "actions":[{"type":"publish","payload":{"fan":"max"}},{"type":"publish","on":"clear","payload":{"fan":"auto"}}]}""",
                201);
        BlockingQueue<JsonNode> got = new LinkedBlockingQueue<>();
        com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient device = com.hivemq.client.mqtt.MqttClient.builder()
                .useMqttVersion3().identifier(tenant + ":n1").serverHost("127.0.0.1")
                .serverPort(node.started().mqtt().settings().port()).buildAsync();
        device.connectWith().cleanSession(true).simpleAuth().username(tenant + ":n1")
                .password(token.getBytes(java.nio.charset.StandardCharsets.UTF_8)).applySimpleAuth().send()
                .get(10, TimeUnit.SECONDS);
        device.subscribeWith().topicFilter("devices/n1/notifications")
                .qos(com.hivemq.client.mqtt.datatypes.MqttQos.AT_LEAST_ONCE).callback(p -> {
                    try {
                        got.add(TestHttp.JSON.readTree(p.getPayloadAsBytes()));
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }).send().get(10, TimeUnit.SECONDS);
        Eventually.await("n1 online", Duration.ofSeconds(15),
                () -> TestHttp.call(node, "GET", "/api/v1/devices/n1", admin, null, 200),
                d -> d.at("/connectivity/online").asBoolean());
        // (through the subscribed client itself: a second connection with its client id would take its session over)
        sendAs(device, "n1", 95);
        JsonNode raised = got.poll(15, TimeUnit.SECONDS);
        assertNotNull(raised, "no notification on devices/n1/notifications");
        assertEquals("raised", raised.get("event").asText());
        assertEquals("max", raised.at("/payload/fan").asText());
        sendAs(device, "n1", 20);
        JsonNode cleared = got.poll(15, TimeUnit.SECONDS);
        assertNotNull(cleared);
        assertEquals("auto", cleared.at("/payload/fan").asText());
        device.disconnect().get(10, TimeUnit.SECONDS);
    }

    private static void sendAs(com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient device, String id, double temperature)
            throws Exception {
        device.publishWith().topic("devices/" + id + "/telemetry").qos(com.hivemq.client.mqtt.datatypes.MqttQos.AT_LEAST_ONCE)
                .payload(("{\"ts\":" + System.currentTimeMillis() + ",\"values\":{\"temperature\":" + temperature + "}}")
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .send().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aDerivedKeyIsStoredThroughTheNormalPath() throws Exception {
        String token = TestHttp.newDevice(node, admin, "d1");
        TestHttp.call(node, "POST", "/api/v1/rules", admin, """
                {"name":"fahrenheit","actions":[{"type":"derive","key":"temperatureF",
                 "expression":"round(temperature * 1.8 + 32, 1)"}]}""", 201);
        publish("d1", token, 21.5);
        JsonNode latest = Eventually.await("the derived key", Duration.ofSeconds(15),
                () -> TestHttp.call(node, "GET", "/api/v1/devices/d1/telemetry/latest", admin, null, 200),
                l -> l.at("/values/temperatureF/value").isNumber());
        assertEquals(70.7, latest.at("/values/temperatureF/value").asDouble());
        assertFalse(latest.at("/values/temperature").isMissingNode());
    }
}

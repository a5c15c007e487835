package io.drover.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5ConnAckException;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAckReasonCode;
import io.drover.persistence.testing.CassandraExtension;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 12 (hardening), the MQTT side, on a node of its own: its failed-authentication budget (burst 10, practically
 * no refill) is used up here and would refuse the connects of other tests from 127.0.0.1.
 */
@ExtendWith(CassandraExtension.class)
class MqttHardeningTest {

    private static final int BURST = 10;
    private static Main.Started node;
    private static int mqttPort;
    private static String tenant;
    private static String admin;

    @BeforeAll
    static void start() throws Exception {
        node = TestNodes.start(Map.of(
                "drover.security.auth-failures.burst", BURST,
                "drover.security.auth-failures.per-second", 0.0001));
        mqttPort = node.started().mqtt().settings().port();
        String platformKey = TestHttp.platformKey(node, "mqtt-hardening");
        tenant = "mh-" + UUID.randomUUID().toString().substring(0, 8);
        admin = TestHttp.newTenant(node, platformKey, tenant);
    }

    @AfterAll
    static void stop() throws Exception {
        TestNodes.stop(node);
    }

    private Mqtt5BlockingClient connect(String device, String token) {
        Mqtt5BlockingClient c = MqttClient.builder().useMqttVersion5().identifier(tenant + ":" + device)
                .serverHost("127.0.0.1").serverPort(mqttPort).buildBlocking();
        c.connectWith().simpleAuth().password(token.getBytes(StandardCharsets.UTF_8)).applySimpleAuth().send();
        return c;
    }

    private Mqtt5ConnAckReasonCode refused(String device, String token) {
        return assertThrows(Mqtt5ConnAckException.class, () -> connect(device, token)).getMqttMessage().getReasonCode();
    }

    @Test
    void failedConnectsAreLimitedPerAddressBeforeAnyLookup() throws Exception {
        String token = TestHttp.newDevice(node, admin, "k1");
        connect("k1", token).disconnect(); // this node knows k1 from here on
        int failures = 0;
        Mqtt5ConnAckReasonCode code;
        while ((code = refused("ghost-" + failures, "guess")) == Mqtt5ConnAckReasonCode.NOT_AUTHORIZED) {
            failures++;
            assertTrue(failures <= BURST, "no limit after " + failures + " failed connects");
        }
        assertEquals(Mqtt5ConnAckReasonCode.QUOTA_EXCEEDED, code);
        assertEquals(BURST, failures, "the burst, then refused");
        assertEquals(Mqtt5ConnAckReasonCode.QUOTA_EXCEEDED, refused("ghost-more", "guess"));
        assertEquals(Mqtt5ConnAckReasonCode.QUOTA_EXCEEDED, refused("k2", "guess"), "an id this node has not seen");
        // a device this node knows is still checked from the blocked address: right token in, wrong token out
        connect("k1", token).disconnect();
        assertEquals(Mqtt5ConnAckReasonCode.BAD_USER_NAME_OR_PASSWORD, refused("k1", "wrong"));
        String metrics = TestHttp.metrics(node);
        assertTrue(metrics.contains("outcome=\"too-many-auth-failures\""), metrics);
    }
}

package io.drover.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.drover.device.Credentials;
import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.persistence.testing.CassandraExtension;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The acceptance test of the foundation, on the real Cassandra: create a device and change its
 * shadow over HTTP, terminate the node, start a new one on the same keyspace, and find the device,
 * its shadow, version and credential hash recovered, and the shadow history replayed.
 */
@ExtendWith(CassandraExtension.class)
class NodeRecoveryTest {

    private static final ObjectMapper JSON = TestHttp.JSON;

    private static Main.Started startNode() throws Exception {
        return TestNodes.start(Map.of());
    }

    private static void stopNode(Main.Started node) throws Exception {
        TestNodes.stop(node);
    }

    private JsonNode call(Main.Started node, String method, String path, String key, String body, int expect)
            throws Exception {
        return TestHttp.call(node, method, path, key, body, expect);
    }

    @Test
    void aNewNodeOnTheSameKeyspaceRecoversDevicesShadowsCredentialsAndHistory() throws Exception {
        String tenant = "rec-" + UUID.randomUUID().toString().substring(0, 8);
        String deviceId = "boiler-1";

        Main.Started first = startNode();
        String tenantAdmin;
        String token;
        JsonNode deviceBefore;
        JsonNode shadowBefore;
        Instant betweenChanges;
        try {
            String platform = TestHttp.platformKey(first, "it");
            tenantAdmin = call(first, "POST", "/api/v1/tenants", platform, "{\"id\":\"" + tenant + "\"}", 201)
                    .at("/adminKey/key").asText();
            token = call(first, "POST", "/api/v1/devices", tenantAdmin,
                    "{\"id\":\"" + deviceId + "\",\"name\":\"Boiler\",\"labels\":[\"basement\"]}", 201).get("token").asText();
            call(first, "PATCH", "/api/v1/devices/" + deviceId + "/shadow/desired", tenantAdmin, "{\"temp\":20}", 200);
            Thread.sleep(20);
            betweenChanges = Instant.now();
            Thread.sleep(20);
            call(first, "PATCH", "/api/v1/devices/" + deviceId + "/shadow/desired", tenantAdmin, "{\"temp\":22,\"mode\":\"eco\"}", 200);
            // the device side (MQTT later) reports through the same facade
            ObjectNode reported = (ObjectNode) JSON.readTree("{\"temp\":21}");
            first.started().devices().updateReported(new DeviceKey(tenant, deviceId), reported, Optional.empty())
                    .toCompletableFuture().get(30, TimeUnit.SECONDS);
            call(first, "POST", "/api/v1/devices/" + deviceId + "/activate", tenantAdmin, null, 200);
            deviceBefore = call(first, "GET", "/api/v1/devices/" + deviceId, tenantAdmin, null, 200);
            shadowBefore = call(first, "GET", "/api/v1/devices/" + deviceId + "/shadow", tenantAdmin, null, 200);
            assertEquals(3, shadowBefore.get("version").asInt());
        } finally {
            stopNode(first);
        }

        Main.Started second = startNode();
        try {
            // the tenant's key, the device and its shadow all come back from Cassandra
            JsonNode deviceAfter = call(second, "GET", "/api/v1/devices/" + deviceId, tenantAdmin, null, 200);
            assertEquals(deviceBefore, deviceAfter);
            assertEquals("active", deviceAfter.get("state").asText());
            JsonNode shadowAfter = call(second, "GET", "/api/v1/devices/" + deviceId + "/shadow", tenantAdmin, null, 200);
            assertEquals(shadowBefore, shadowAfter);
            assertEquals(3, shadowAfter.get("version").asInt());
            assertEquals("{\"temp\":22,\"mode\":\"eco\"}", shadowAfter.get("delta").toString());

            Device.Reply reply = second.started().devices().get(new DeviceKey(tenant, deviceId))
                    .toCompletableFuture().get(30, TimeUnit.SECONDS);
            Device.DeviceView view = assertInstanceOf(Device.DeviceDetails.class, reply).device();
            assertEquals(Credentials.hash(token), view.tokenHash(), "the credential hash is recovered");

            JsonNode earlier = call(second, "GET", "/api/v1/devices/" + deviceId + "/shadow/history?at=" + betweenChanges,
                    tenantAdmin, null, 200);
            assertEquals(1, earlier.at("/shadow/version").asInt());
            assertEquals("{\"temp\":20}", earlier.at("/shadow/desired").toString());
            JsonNode changes = call(second, "GET", "/api/v1/devices/" + deviceId + "/shadow/history", tenantAdmin, null, 200);
            assertEquals(3, changes.get("changes").size());

            JsonNode listed = call(second, "GET", "/api/v1/devices", tenantAdmin, null, 200);
            assertEquals(deviceId, listed.at("/items/0/id").asText());
            assertTrue(call(second, "GET", "/health/ready", tenantAdmin, null, 200).at("/checks/cassandra").asBoolean());

            // and the recovered twin keeps working: the next version follows on
            JsonNode next = call(second, "PATCH", "/api/v1/devices/" + deviceId + "/shadow/desired", tenantAdmin, "{\"temp\":23}", 200);
            assertEquals(4, next.get("version").asInt());
        } finally {
            stopNode(second);
        }
    }
}

package io.drover.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.drover.device.DeviceKey;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TopicsTest {

    @Test
    void aDevicePublishesOnlyToItsOwnDeviceToPlatformTopics() {
        assertEquals(Topics.Inbound.TELEMETRY, Topics.inbound("d1", "devices/d1/telemetry").orElseThrow().kind());
        assertEquals(Topics.Inbound.SHADOW_REPORTED, Topics.inbound("d1", "devices/d1/shadow/reported").orElseThrow().kind());
        assertEquals(Topics.Inbound.SHADOW_GET, Topics.inbound("d1", "devices/d1/shadow/get").orElseThrow().kind());
        assertEquals(Topics.Inbound.EVENTS, Topics.inbound("d1", "devices/d1/events").orElseThrow().kind());
        Topics.Route r = Topics.inbound("d1", "devices/d1/commands/c-7/response").orElseThrow();
        assertEquals(Topics.Inbound.COMMAND_RESPONSE, r.kind());
        assertEquals(Optional.of("c-7"), r.commandId());
        for (String t : new String[] {"devices/d2/telemetry", "devices/d1/shadow/desired", "devices/d1/errors",
                "devices/d1/commands/c-7", "devices/d1/commands//response", "devices/d1/commands/a/b/response",
                "devices/d1/telemetry/x", "devices/d10/telemetry", "$SYS/x", "devices/d1"}) {
            assertTrue(Topics.inbound("d1", t).isEmpty(), t);
        }
    }

    @Test
    void aDeviceSubscribesOnlyToItsOwnPlatformToDeviceTopics() {
        for (String f : new String[] {"devices/d1/shadow/desired", "devices/d1/shadow/get/accepted", "devices/d1/errors",
                "devices/d1/commands/+", "devices/d1/commands/c-1", "devices/d1/notifications"}) {
            assertTrue(Topics.maySubscribe("d1", f), f);
        }
        for (String f : new String[] {"#", "+/+/+", "devices/#", "devices/+/errors", "devices/d1/#", "devices/d1/+",
                "devices/d2/errors", "devices/d1/telemetry", "$SYS/#", "$share/g/devices/d1/errors",
                "devices/d1/commands/#", "devices/d1/commands/+/response", "devices/d2/notifications"}) {
            assertFalse(Topics.maySubscribe("d1", f), f);
        }
    }

    @Test
    void clientIdsAreTenantColonDevice() {
        assertEquals(Optional.of(new DeviceKey("acme", "boiler-1")), DeviceIdentity.fromClientId("acme:boiler-1"));
        for (String bad : new String[] {"boiler-1", ":x", "acme:", "ACME:x", "acme:has space", "acme:a:b"}) {
            assertTrue(DeviceIdentity.fromClientId(bad).isEmpty(), bad);
        }
    }
}

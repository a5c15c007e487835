package io.drover.mqtt;

import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.shard.DeviceClient;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * lastSeenAt without journaling every message: the twin is told about a device's traffic at most
 * once per {@link #EVERY_NANOS} per node, and keeps it in memory.
 */
final class SeenTracker {

    static final long EVERY_NANOS = 10_000_000_000L;
    private static final int MAX_TRACKED = 200_000;

    private final DeviceClient devices;
    private final Map<DeviceKey, Long> lastTold = new ConcurrentHashMap<>();

    SeenTracker(DeviceClient devices) {
        this.devices = devices;
    }

    void seen(DeviceKey key) {
        long now = System.nanoTime();
        Long before = lastTold.get(key);
        if (before != null && now - before < EVERY_NANOS) {
            return;
        }
        if (lastTold.size() > MAX_TRACKED) {
            lastTold.clear(); // bounded: forgetting only means telling a twin once more
        }
        lastTold.put(key, now);
        devices.ask(key, r -> new Device.RecordSeen(Instant.now(), r));
    }
}

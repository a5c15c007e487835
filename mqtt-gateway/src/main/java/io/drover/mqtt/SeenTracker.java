package io.drover.mqtt;

import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.shard.BoundedCache;
import io.drover.shard.DeviceClient;
import java.time.Duration;
import java.time.Instant;

/**
 * lastSeenAt without journaling every message: the twin is told about a device's traffic at most
 * once per {@link #EVERY} per node, and keeps it in memory. The devices told lately are an LRU with that
 * expiry ({@link BoundedCache}): forgetting one only means telling its twin once more.
 */
final class SeenTracker {

    static final Duration EVERY = Duration.ofSeconds(10);
    private static final int MAX_TRACKED = 200_000;

    private final DeviceClient devices;
    private final BoundedCache<DeviceKey, Boolean> told = new BoundedCache<>(MAX_TRACKED, EVERY);

    SeenTracker(DeviceClient devices) {
        this.devices = devices;
    }

    void seen(DeviceKey key) {
        if (told.get(key).isPresent()) {
            return;
        }
        told.put(key, Boolean.TRUE);
        devices.ask(key, r -> new Device.RecordSeen(Instant.now(), r));
    }
}

package io.drover.mqtt;

import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.shard.DeviceClient;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a CONNECT needs to know about a device (lifecycle, token hash, certificate fingerprint), cached
 * per node so a reconnect storm, or a flood of connects for ids that do not exist, does not wake a twin
 * per attempt. Bounded; entries expire (unknown ids sooner); and every change the twins publish on the
 * cluster-wide credentials topic (rotation, certificate, suspend, activate, decommission, registration)
 * drops the entry at once on every node.
 */
final class AuthCache {

    /** Empty {@code lifecycle}-less facts mean "no such device". */
    record Facts(Device.Lifecycle lifecycle, String tokenHash, String certificateFingerprint) {}

    private record Entry(Optional<Facts> facts, long expiresAtNanos) {}

    private final DeviceClient devices;
    private final Map<DeviceKey, Entry> entries = new ConcurrentHashMap<>();
    private final int maxEntries;
    private final long ttlNanos;
    private final long unknownTtlNanos;

    AuthCache(DeviceClient devices, int maxEntries, Duration ttl, Duration unknownTtl) {
        this.devices = devices;
        this.maxEntries = maxEntries;
        this.ttlNanos = ttl.toNanos();
        this.unknownTtlNanos = unknownTtl.toNanos();
    }

    CompletionStage<Optional<Facts>> lookup(DeviceKey key) {
        Entry e = entries.get(key);
        long now = System.nanoTime();
        if (e != null && now - e.expiresAtNanos() < 0) {
            return CompletableFuture.completedFuture(e.facts());
        }
        return devices.get(key).thenApply(reply -> {
            Optional<Facts> facts;
            if (reply instanceof Device.DeviceDetails d) {
                facts = Optional.of(new Facts(d.device().lifecycle(), d.device().tokenHash(),
                        d.device().certificateFingerprint()));
            } else if (reply instanceof Device.Rejected r && r.code() == Device.Rejection.DECOMMISSIONED) {
                facts = Optional.of(new Facts(Device.Lifecycle.DECOMMISSIONED, null, null));
            } else {
                facts = Optional.empty();
            }
            if (entries.size() >= maxEntries) {
                entries.clear(); // bounded; a miss costs one ask
            }
            entries.put(key, new Entry(facts, System.nanoTime() + (facts.isPresent() ? ttlNanos : unknownTtlNanos)));
            return facts;
        });
    }

    void invalidate(DeviceKey key) {
        entries.remove(key);
    }
}

package io.drover.mqtt;

import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.shard.BoundedCache;
import io.drover.shard.DeviceClient;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * What a CONNECT needs to know about a device (lifecycle, token hash, certificate fingerprint), cached
 * per node so a reconnect storm, or a flood of connects for ids that do not exist, does not wake a twin
 * per attempt. Two LRUs ({@link BoundedCache}): known devices for {@code ttl}, unknown ids for the shorter
 * {@code unknownTtl}, each bounded, so a flood of unknown ids never evicts the devices in use; and every change the
 * twins publish on the cluster-wide credentials topic (rotation, certificate, suspend, activate, decommission,
 * registration) drops the entry at once on every node.
 */
final class AuthCache {

    /** Empty {@code lifecycle}-less facts mean "no such device". */
    record Facts(Device.Lifecycle lifecycle, String tokenHash, String certificateFingerprint) {}

    private final DeviceClient devices;
    private final BoundedCache<DeviceKey, Facts> known;
    private final BoundedCache<DeviceKey, Boolean> unknown;

    AuthCache(DeviceClient devices, int maxEntries, Duration ttl, Duration unknownTtl) {
        this.devices = devices;
        this.known = new BoundedCache<>(maxEntries, ttl);
        this.unknown = new BoundedCache<>(maxEntries, unknownTtl);
    }

    CompletionStage<Optional<Facts>> lookup(DeviceKey key) {
        Optional<Facts> cached = known.get(key);
        if (cached.isPresent()) {
            return CompletableFuture.completedFuture(cached);
        }
        if (unknown.get(key).isPresent()) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        return devices.get(key).thenApply(reply -> {
            Facts facts;
            if (reply instanceof Device.DeviceDetails d) {
                facts = new Facts(d.device().lifecycle(), d.device().tokenHash(), d.device().certificateFingerprint());
            } else if (reply instanceof Device.Rejected r && r.code() == Device.Rejection.DECOMMISSIONED) {
                facts = new Facts(Device.Lifecycle.DECOMMISSIONED, null, null);
            } else {
                unknown.put(key, Boolean.TRUE);
                return Optional.empty();
            }
            known.put(key, facts);
            return Optional.of(facts);
        });
    }

    /** The facts of a device this node knows now, without any lookup. */
    Optional<Facts> known(DeviceKey key) {
        return known.get(key);
    }

    void invalidate(DeviceKey key) {
        known.invalidate(key);
        unknown.invalidate(key);
    }
}

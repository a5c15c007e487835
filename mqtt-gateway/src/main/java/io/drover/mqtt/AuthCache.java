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
 * What a CONNECT needs to know about a device (lifecycle, token hash, certificate fingerprint). A known device's
 * facts come from its twin at every connect (the twin is told of the session right after anyway), so no cache can
 * let an old token in; ids that named no device are remembered for {@code unknownTtl} so a flood of connects for
 * made-up ids does not wake a twin per attempt. The last facts of known devices are kept too, for one use only:
 * an address that failed too often may still connect a device this node knows (see DeviceAuthenticator) — and
 * the twin checks the credential again when it records the session. Both LRUs ({@link BoundedCache}) are bounded,
 * and every change the twins publish on the credentials topic drops the entries at once.
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

    /**
     * The facts for a CONNECT: asked of the twin each time (so a rotated token or a suspension is refused at once
     * on every node, whatever a broadcast did), except for ids that named no device lately.
     */
    CompletionStage<Optional<Facts>> lookup(DeviceKey key) {
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

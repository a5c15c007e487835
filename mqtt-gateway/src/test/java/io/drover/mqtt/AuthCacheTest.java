package io.drover.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.shard.DeviceClient;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;

/**
 * What a CONNECT costs and trusts: a known device's facts are the twin's at every connect (a rotated token is
 * refused at once, whatever a cache or a broadcast did); an id that named no device is asked once per TTL.
 */
class AuthCacheTest {

    /** Twins as a map: a Get answers the device's current facts, or "not found". */
    private static final class Twins implements DeviceClient {
        final Map<DeviceKey, String> tokenHash = new ConcurrentHashMap<>();
        final AtomicInteger asks = new AtomicInteger();

        @Override
        public CompletionStage<Device.Reply> ask(DeviceKey key, Function<ActorRef<Device.Reply>, Device.Command> command,
                Duration timeout) {
            asks.incrementAndGet();
            String hash = tokenHash.get(key);
            if (hash == null) {
                return CompletableFuture.completedFuture(new Device.Rejected(Device.Rejection.NOT_FOUND, "no device"));
            }
            Instant t = Instant.EPOCH;
            return CompletableFuture.completedFuture(new Device.DeviceDetails(new Device.DeviceView(key.tenantId(),
                    key.deviceId(), Device.Lifecycle.ACTIVE, null, null, List.of(), null, t, t, t, 0, hash,
                    null, null)));
        }

        @Override
        public Duration askTimeout() {
            return Duration.ofSeconds(1);
        }
    }

    @Test
    void knownDevicesAreAskedAtEveryConnectAndUnknownIdsOncePerTtl() throws Exception {
        Twins twins = new Twins();
        AuthCache cache = new AuthCache(twins, 100, Duration.ofMinutes(5), Duration.ofSeconds(10));
        DeviceKey d = new DeviceKey("t", "d1");
        twins.tokenHash.put(d, "old");
        assertEquals("old", cache.lookup(d).toCompletableFuture().get().orElseThrow().tokenHash());
        twins.tokenHash.put(d, "new"); // rotated, and no broadcast reached this node
        assertEquals("new", cache.lookup(d).toCompletableFuture().get().orElseThrow().tokenHash(),
                "the next connect sees the twin's current token");
        assertEquals(2, twins.asks.get());
        assertEquals("new", cache.known(d).orElseThrow().tokenHash(), "the last facts, for a blocked address only");

        DeviceKey ghost = new DeviceKey("t", "ghost");
        for (int i = 0; i < 5; i++) {
            assertTrue(cache.lookup(ghost).toCompletableFuture().get().isEmpty());
        }
        assertEquals(3, twins.asks.get(), "an unknown id is asked once per TTL");
        twins.tokenHash.put(ghost, "h");
        cache.invalidate(ghost); // what the credentials topic does on registration
        assertTrue(cache.lookup(ghost).toCompletableFuture().get().isPresent());
    }
}

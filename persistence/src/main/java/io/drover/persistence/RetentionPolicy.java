package io.drover.persistence;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each tenant's effective {@link Retention}, read from the access store and cached for {@code ttl}
 * (a change made through the API reaches every node's writer within that time). Bounded: past
 * {@code maxTenants} entries the cache is cleared and refilled on demand.
 */
public final class RetentionPolicy {

    private record Entry(CompletionStage<Retention> value, long expiresAtMs) {}

    private final AccessStore store;
    private final Retention defaults;
    private final Duration ttl;
    private final int maxTenants;
    private final Clock clock;
    private final Map<String, Entry> cache = new ConcurrentHashMap<>();

    public RetentionPolicy(AccessStore store, Retention defaults, Duration ttl, int maxTenants, Clock clock) {
        this.store = store;
        this.defaults = defaults;
        this.ttl = ttl;
        this.maxTenants = maxTenants;
        this.clock = clock;
    }

    public Retention defaults() {
        return defaults;
    }

    public CompletionStage<Retention> of(String tenantId) {
        long now = clock.millis();
        Entry e = cache.get(tenantId);
        if (e != null && e.expiresAtMs() > now) {
            return e.value();
        }
        if (cache.size() >= maxTenants) {
            cache.clear();
        }
        CompletableFuture<Retention> f = store.retention(tenantId)
                .thenApply(o -> Retention.of(o, defaults)).toCompletableFuture();
        Entry fresh = new Entry(f, now + ttl.toMillis());
        cache.put(tenantId, fresh);
        f.whenComplete((r, err) -> {
            if (err != null) {
                cache.remove(tenantId, fresh); // try again next time instead of caching a failure
            }
        });
        return f;
    }

    /** Forgets a tenant's cached value on this node (after a change made here). */
    public void invalidate(String tenantId) {
        cache.remove(tenantId);
    }
}

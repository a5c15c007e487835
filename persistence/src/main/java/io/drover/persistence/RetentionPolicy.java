package io.drover.persistence;

import io.drover.shard.BoundedCache;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Each tenant's effective {@link Retention}, read from the access store and cached for {@code ttl}
 * (a change made through the API reaches every node's writer within that time). Bounded: an LRU of
 * {@code maxTenants} ({@link BoundedCache}); a read that fails is not cached.
 */
public final class RetentionPolicy {

    private final AccessStore store;
    private final Retention defaults;
    private final BoundedCache<String, CompletableFuture<Retention>> cache;

    public RetentionPolicy(AccessStore store, Retention defaults, Duration ttl, int maxTenants) {
        this.store = store;
        this.defaults = defaults;
        this.cache = new BoundedCache<>(maxTenants, ttl);
    }

    public Retention defaults() {
        return defaults;
    }

    public CompletionStage<Retention> of(String tenantId) {
        return BoundedCache.loading(cache, tenantId,
                () -> store.retention(tenantId).thenApply(o -> Retention.of(o, defaults)));
    }

    /** Forgets a tenant's cached value on this node (after a change made here). */
    public void invalidate(String tenantId) {
        cache.invalidate(tenantId);
    }
}

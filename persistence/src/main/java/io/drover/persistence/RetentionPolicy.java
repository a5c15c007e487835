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
        CompletableFuture<Retention> fresh = new CompletableFuture<>();
        CompletableFuture<Retention> f = cache.computeIfAbsent(tenantId, k -> fresh);
        if (f == fresh) { // cached before the read starts, so a read that fails at once is not left cached
            store.retention(tenantId).thenApply(o -> Retention.of(o, defaults)).whenComplete((r, err) -> {
                if (err != null) {
                    cache.invalidate(tenantId); // try again next time instead of caching a failure
                    fresh.completeExceptionally(err);
                } else {
                    fresh.complete(r);
                }
            });
        }
        return f;
    }

    /** Forgets a tenant's cached value on this node (after a change made here). */
    public void invalidate(String tenantId) {
        cache.invalidate(tenantId);
    }
}

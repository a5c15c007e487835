package io.drover.http.testing;

import io.drover.persistence.AccessStore;
import io.drover.persistence.ApiKey;
import io.drover.persistence.Tenant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/** Test double of {@link AccessStore} for route tests; the Cassandra one is tested against Cassandra. */
public final class InMemoryAccessStore implements AccessStore {

    /** How many times a key was looked up by hash (what a Cassandra read would be). */
    public final java.util.concurrent.atomic.AtomicInteger keyReads = new java.util.concurrent.atomic.AtomicInteger();
    /** The hash of each {@link #keyByHash} read, in order (open WebSockets of other tests revalidate theirs). */
    public final java.util.concurrent.ConcurrentLinkedQueue<String> readHashes = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final Map<String, Tenant> tenants = new ConcurrentHashMap<>();
    private final Map<String, ApiKey> keysByHash = new ConcurrentHashMap<>();
    private final Map<String, io.drover.persistence.Retention.Overrides> retention = new ConcurrentHashMap<>();

    @Override
    public CompletionStage<io.drover.persistence.Retention.Overrides> retention(String tenantId) {
        return CompletableFuture.completedFuture(retention.getOrDefault(tenantId, io.drover.persistence.Retention.Overrides.NONE));
    }

    @Override
    public CompletionStage<Void> setRetention(String tenantId, io.drover.persistence.Retention.Overrides overrides) {
        retention.put(tenantId, overrides);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Boolean> createTenant(Tenant tenant) {
        return CompletableFuture.completedFuture(tenants.putIfAbsent(tenant.tenantId(), tenant) == null);
    }

    @Override
    public CompletionStage<Optional<Tenant>> tenant(String tenantId) {
        return CompletableFuture.completedFuture(Optional.ofNullable(tenants.get(tenantId)));
    }

    @Override
    public CompletionStage<Void> createKey(ApiKey key) {
        keysByHash.put(key.keyHash(), key);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Optional<ApiKey>> keyByHash(String keyHash) {
        keyReads.incrementAndGet();
        readHashes.add(keyHash);
        return CompletableFuture.completedFuture(Optional.ofNullable(keysByHash.get(keyHash)));
    }

    @Override
    public CompletionStage<List<ApiKey>> keysOf(String tenantId) {
        return CompletableFuture.completedFuture(
                keysByHash.values().stream().filter(k -> k.tenantId().equals(tenantId)).toList());
    }

    @Override
    public CompletionStage<Boolean> deleteKey(String tenantId, String keyId) {
        return CompletableFuture.completedFuture(keysByHash.values()
                .removeIf(k -> k.tenantId().equals(tenantId) && k.keyId().equals(keyId)));
    }
}

package io.drover.shard;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * A small LRU cache with expiry, safe for concurrent use: at most {@code maxEntries} (the least recently used go
 * first), each entry valid for {@code ttl} after it was put. For node-local lookups in front of an entity or a
 * table; never a source of truth.
 */
public final class BoundedCache<K, V> {

    private record Entry<V>(V value, long expiresAt) {}

    private final int maxEntries;
    private final long ttlNanos;
    private final LongSupplier nanoTime;
    private final LinkedHashMap<K, Entry<V>> map;
    private final Consumer<V> onEvict;

    public BoundedCache(int maxEntries, Duration ttl) {
        this(maxEntries, ttl, System::nanoTime, v -> {});
    }

    /** {@code onEvict} sees each value that leaves because the cache is full or its entry expired. */
    public BoundedCache(int maxEntries, Duration ttl, Consumer<V> onEvict) {
        this(maxEntries, ttl, System::nanoTime, onEvict);
    }

    BoundedCache(int maxEntries, Duration ttl, LongSupplier nanoTime, Consumer<V> onEvict) {
        this.maxEntries = maxEntries;
        this.ttlNanos = ttl.toNanos();
        this.nanoTime = nanoTime;
        this.onEvict = onEvict;
        this.map = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, Entry<V>> eldest) {
                boolean full = size() > BoundedCache.this.maxEntries;
                if (full) {
                    BoundedCache.this.onEvict.accept(eldest.getValue().value());
                }
                return full;
            }
        };
    }

    public synchronized Optional<V> get(K key) {
        Entry<V> e = map.get(key);
        if (e == null) {
            return Optional.empty();
        }
        if (nanoTime.getAsLong() - e.expiresAt() > 0) {
            map.remove(key);
            onEvict.accept(e.value());
            return Optional.empty();
        }
        return Optional.of(e.value());
    }

    public synchronized void put(K key, V value) {
        map.put(key, new Entry<>(value, nanoTime.getAsLong() + ttlNanos));
    }

    public synchronized void invalidate(K key) {
        map.remove(key);
    }

    /** The value for {@code key}, made by {@code make} when absent or expired. */
    public synchronized V computeIfAbsent(K key, java.util.function.Function<K, V> make) {
        Optional<V> v = get(key);
        if (v.isPresent()) {
            return v.get();
        }
        V made = make.apply(key);
        put(key, made);
        return made;
    }

    /**
     * For caches of lookups: the cached future for {@code key}, or a new one that {@code load} completes. Concurrent
     * callers share one load; the future is cached before the load starts and dropped if the load fails, so a
     * failure is never served from the cache (the next caller loads again).
     */
    public static <K, V> CompletableFuture<V> loading(BoundedCache<K, CompletableFuture<V>> cache, K key,
            Supplier<? extends CompletionStage<V>> load) {
        CompletableFuture<V> fresh = new CompletableFuture<>();
        CompletableFuture<V> f = cache.computeIfAbsent(key, k -> fresh);
        if (f == fresh) {
            load.get().whenComplete((v, e) -> {
                if (e != null) {
                    cache.invalidate(key);
                    fresh.completeExceptionally(e);
                } else {
                    fresh.complete(v);
                }
            });
        }
        return f;
    }

    public synchronized int size() {
        return map.size();
    }
}

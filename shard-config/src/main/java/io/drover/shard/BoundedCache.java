package io.drover.shard;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
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

    public BoundedCache(int maxEntries, Duration ttl) {
        this(maxEntries, ttl, System::nanoTime);
    }

    BoundedCache(int maxEntries, Duration ttl, LongSupplier nanoTime) {
        this.maxEntries = maxEntries;
        this.ttlNanos = ttl.toNanos();
        this.nanoTime = nanoTime;
        this.map = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, Entry<V>> eldest) {
                return size() > BoundedCache.this.maxEntries;
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

    public synchronized int size() {
        return map.size();
    }
}

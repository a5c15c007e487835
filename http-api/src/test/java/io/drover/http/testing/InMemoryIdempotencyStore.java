package io.drover.http.testing;

import io.drover.persistence.IdempotencyStore;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/** Test double of {@link IdempotencyStore} (no expiry); the Cassandra one is tested against Cassandra. */
public final class InMemoryIdempotencyStore implements IdempotencyStore {

    private final Map<String, Entry> rows = new ConcurrentHashMap<>();

    /** Every row as stored (what a reader of the table would see). */
    public Map<String, Entry> rows() {
        return rows;
    }

    @Override
    public CompletionStage<Optional<Entry>> begin(String id, String bodyHash, Duration pendingFor) {
        Entry prev = rows.putIfAbsent(id, new Entry(bodyHash, true, 0, null));
        return CompletableFuture.completedFuture(Optional.ofNullable(prev));
    }

    @Override
    public CompletionStage<Void> complete(String id, String bodyHash, int status, byte[] response, Duration keep) {
        rows.put(id, new Entry(bodyHash, false, status, response));
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Void> release(String id) {
        rows.remove(id);
        return CompletableFuture.completedFuture(null);
    }
}

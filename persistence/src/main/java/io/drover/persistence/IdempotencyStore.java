package io.drover.persistence;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Answers of requests sent with an {@code Idempotency-Key} (docs/http-api.md), by an opaque id the caller derives
 * from (tenant, route, key). {@link #begin} takes an id once; the taker {@link #complete}s it with the answer or
 * {@link #release}s it (the request failed in a way a retry should run again).
 */
public interface IdempotencyStore {

    /** What an id holds: a request in progress, or the answer (status and opaque bytes). */
    record Entry(String bodyHash, boolean pending, int status, byte[] response) {}

    /** Takes {@code id} for a request with {@code bodyHash}: empty if taken now, else what is there. */
    CompletionStage<Optional<Entry>> begin(String id, String bodyHash, Duration pendingFor);

    CompletionStage<Void> complete(String id, String bodyHash, int status, byte[] response, Duration keep);

    CompletionStage<Void> release(String id);
}

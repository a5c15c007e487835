package io.drover.persistence;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import io.drover.persistence.cassandra.CassandraIdempotencyStore;
import io.drover.persistence.testing.CassandraExtension;
import io.drover.persistence.testing.TestStores;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Idempotency keys on the real Cassandra (V007): one taker per id, even when many race for it. */
@ExtendWith(CassandraExtension.class)
class IdempotencyStoreTest {

    private static CassandraIdempotencyStore store;

    @BeforeAll
    static void connect() throws Exception {
        CqlSession session = TestStores.session();
        store = new CassandraIdempotencyStore(session, CassandraExtension.TEST_KEYSPACE);
    }

    @Test
    void anIdIsTakenOnceThenAnsweredOrReleased() throws Exception {
        String id = UUID.randomUUID().toString();
        assertTrue(store.begin(id, "h1", Duration.ofSeconds(60)).toCompletableFuture().get().isEmpty(), "taken");
        IdempotencyStore.Entry pending = store.begin(id, "h2", Duration.ofSeconds(60)).toCompletableFuture().get()
                .orElseThrow();
        assertTrue(pending.pending());
        assertEquals("h1", pending.bodyHash(), "what the taker sent");
        store.complete(id, "h1", 201, new byte[] {1, 2, 3}, Duration.ofHours(24)).toCompletableFuture().get();
        IdempotencyStore.Entry done = store.begin(id, "h1", Duration.ofSeconds(60)).toCompletableFuture().get()
                .orElseThrow();
        assertFalse(done.pending());
        assertEquals(201, done.status());
        assertArrayEquals(new byte[] {1, 2, 3}, done.response());

        String other = UUID.randomUUID().toString();
        store.begin(other, "h", Duration.ofSeconds(60)).toCompletableFuture().get();
        store.release(other).toCompletableFuture().get();
        assertTrue(store.begin(other, "h", Duration.ofSeconds(60)).toCompletableFuture().get().isEmpty(),
                "released: the retry takes it again");
    }

    @Test
    void racingRequestsHaveOneTaker() throws Exception {
        String id = UUID.randomUUID().toString();
        var attempts = IntStream.range(0, 8).mapToObj(i -> store.begin(id, "h", Duration.ofSeconds(60))
                .toCompletableFuture()).toList();
        CompletableFuture.allOf(attempts.toArray(CompletableFuture[]::new)).get();
        assertEquals(1, attempts.stream().map(CompletableFuture::join).filter(Optional::isEmpty).count());
    }
}

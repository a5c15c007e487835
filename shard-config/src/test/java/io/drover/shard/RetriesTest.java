package io.drover.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RetriesTest {

    @Test
    void triesAgainUntilItWorksOrTheAttemptsAreUsedUp() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        String ok = Retries.retry(() -> calls.incrementAndGet() < 3 ? CompletableFuture.failedFuture(new IllegalStateException("no"))
                : CompletableFuture.completedFuture("yes"), 5, Duration.ofMillis(5), Duration.ofMillis(20))
                .get(5, TimeUnit.SECONDS);
        assertEquals("yes", ok);
        assertEquals(3, calls.get());

        AtomicInteger failing = new AtomicInteger();
        ExecutionException e = assertThrows(ExecutionException.class, () -> Retries.<String>retry(() -> {
            failing.incrementAndGet();
            throw new IllegalArgumentException("always");
        }, 3, Duration.ofMillis(1), Duration.ofMillis(2)).get(5, TimeUnit.SECONDS));
        assertEquals("always", e.getCause().getMessage());
        assertEquals(3, failing.get());
    }
}

package io.drover.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The sliding window the map's positions are read through. */
class FleetRoutesTest {

    @Test
    void theWindowRunsEveryTaskOnceWithAtMostItsParallelismInFlight() throws Exception {
        ScheduledExecutorService pool = Executors.newScheduledThreadPool(4);
        try {
            AtomicIntegerArray runs = new AtomicIntegerArray(500);
            AtomicInteger inFlight = new AtomicInteger();
            AtomicInteger most = new AtomicInteger();
            FleetRoutes.window(500, 7, i -> {
                runs.incrementAndGet(i);
                most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                CompletableFuture<Void> f = new CompletableFuture<>();
                pool.schedule(() -> {
                    inFlight.decrementAndGet();
                    f.complete(null);
                }, i % 3, TimeUnit.MILLISECONDS);
                return f;
            }).get(30, TimeUnit.SECONDS);
            for (int i = 0; i < 500; i++) {
                assertEquals(1, runs.get(i), "task " + i);
            }
            assertTrue(most.get() <= 7 && most.get() >= 2, "in flight at most: " + most.get());
            // completed synchronously (an in-memory store), and none at all
            FleetRoutes.window(1000, 3, i -> CompletableFuture.completedFuture(null)).get(5, TimeUnit.SECONDS);
            FleetRoutes.window(0, 3, i -> CompletableFuture.completedFuture(null)).get(5, TimeUnit.SECONDS);
            ExecutionException e = assertThrows(ExecutionException.class, () -> FleetRoutes.window(50, 4,
                    i -> i == 20 ? CompletableFuture.failedFuture(new IllegalStateException("read failed"))
                            : CompletableFuture.completedFuture(null)).get(5, TimeUnit.SECONDS));
            assertEquals("read failed", e.getCause().getMessage());
        } finally {
            pool.shutdownNow();
        }
    }
}

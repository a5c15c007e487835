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

/** The fleet summary's per-tenant cache, and the sliding window the map's positions are read through. */
class FleetRoutesTest {

    /** A clock the test moves. */
    private static final class Manual extends java.time.Clock {
        java.time.Instant now = java.time.Instant.parse("2026-12-05T00:00:00Z");

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public java.time.Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public java.time.Instant instant() {
            return now;
        }
    }

    @Test
    void aSummaryIsKeptPerTenantForItsTtlInABoundedCacheAndAFailedReadIsNot() throws Exception {
        AtomicInteger reads = new AtomicInteger();
        AtomicInteger failNext = new AtomicInteger();
        io.drover.http.testing.InMemoryDeviceDirectory rows = new io.drover.http.testing.InMemoryDeviceDirectory();
        io.drover.persistence.DeviceDirectory counted = (io.drover.persistence.DeviceDirectory) java.lang.reflect.Proxy
                .newProxyInstance(getClass().getClassLoader(), new Class<?>[] {io.drover.persistence.DeviceDirectory.class},
                        (proxy, method, args) -> {
                            if (method.getName().equals("summary")) {
                                reads.incrementAndGet();
                                if (failNext.getAndSet(0) == 1) {
                                    return CompletableFuture.failedFuture(new IllegalStateException("Cassandra down"));
                                }
                            }
                            return method.invoke(rows, args);
                        });
        Manual clock = new Manual();
        FleetRoutes fleet = new FleetRoutes(counted, null, new io.drover.http.testing.InMemoryAlarmDirectory(),
                new ApiMetrics(new io.prometheus.metrics.model.registry.PrometheusRegistry(), false),
                new FleetRoutes.Settings(1000, 1000, java.time.Duration.ofSeconds(10), 2, 1000, 8), clock);
        rows.upsert(new io.drover.persistence.DeviceListing("a", "d1", null, null, java.util.List.of(), "active",
                clock.now, clock.now, true)).toCompletableFuture().get();
        FleetRoutes.Summary first = fleet.summary("a").toCompletableFuture().get();
        assertEquals(1, first.devices().total());
        assertEquals(1, first.devices().online());
        rows.upsert(new io.drover.persistence.DeviceListing("a", "d2", null, null, java.util.List.of(), "active",
                clock.now, clock.now, false)).toCompletableFuture().get();
        clock.now = clock.now.plusSeconds(9);
        FleetRoutes.Summary cached = fleet.summary("a").toCompletableFuture().get();
        assertEquals(first, cached, "within the TTL: the kept answer");
        assertEquals(1, reads.get());
        clock.now = clock.now.plusSeconds(2);
        FleetRoutes.Summary fresh = fleet.summary("a").toCompletableFuture().get();
        assertEquals(2, fresh.devices().total(), "past the TTL: read again");
        assertEquals(clock.now, fresh.computedAt());
        assertEquals(2, reads.get());
        // two tenants at most: a third pushes out the least recently asked (a), whose next ask reads again
        fleet.summary("b").toCompletableFuture().get();
        fleet.summary("c").toCompletableFuture().get();
        assertEquals(4, reads.get());
        fleet.summary("c").toCompletableFuture().get();
        assertEquals(4, reads.get(), "c is kept");
        fleet.summary("a").toCompletableFuture().get();
        assertEquals(5, reads.get(), "a was pushed out");
        // a failed read is not kept
        clock.now = clock.now.plusSeconds(60);
        failNext.set(1);
        assertThrows(ExecutionException.class, () -> fleet.summary("a").toCompletableFuture().get());
        assertEquals(2, fleet.summary("a").toCompletableFuture().get().devices().total(), "the next ask reads again");
        assertEquals(7, reads.get());
    }

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

package io.drover.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.drover.persistence.Rollup;
import io.drover.persistence.RollupWindow;
import io.drover.persistence.TelemetrySample;
import io.drover.persistence.TelemetryStore;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The hub's write path with a stubbed store: retries, failures, and a full queue refusing at once. */
class TelemetryHubTest {

    private static final ActorTestKit testKit = ActorTestKit.create();

    @AfterAll
    static void shutdown() {
        testKit.shutdownTestKit();
    }

    /** A store whose writes answer what {@code onWrite} says (by attempt number, from 1). */
    private static final class StubStore implements TelemetryStore {
        final AtomicInteger writes = new AtomicInteger();
        /** The number of samples of each write, in order. */
        final List<Integer> sizes = java.util.Collections.synchronizedList(new ArrayList<>());
        final Function<Integer, CompletionStage<Void>> onWrite;

        StubStore(Function<Integer, CompletionStage<Void>> onWrite) {
            this.onWrite = onWrite;
        }

        @Override
        public CompletionStage<Void> write(List<TelemetrySample> samples, Collection<RollupWindow> newWindows) {
            sizes.add(samples.size());
            return onWrite.apply(writes.incrementAndGet());
        }

        @Override
        public CompletionStage<RawPage> readRaw(RawQuery query) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletionStage<List<Rollup>> readRollups(String t, String d, String k, RollupWindow.Resolution r, Instant f,
                Instant to) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletionStage<List<String>> keys(String t, String d) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletionStage<Map<String, TelemetrySample>> latest(String t, String d, Set<String> keys) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletionStage<Optional<RollupWindow>> recompute(RollupWindow window) {
            return CompletableFuture.completedFuture(Optional.empty());
        }

        @Override
        public CompletionStage<List<RollupWindow>> pending(RollupWindow.Resolution r, Instant before, int limit) {
            return CompletableFuture.completedFuture(List.of());
        }
    }

    private static TelemetryHub hub(TelemetryStore store, int queueSize) {
        return hub(store, queueSize, Duration.ofMillis(1), 2);
    }

    private static TelemetryHub hub(TelemetryStore store, int queueSize, Duration window, int parallelism) {
        TelemetrySettings s = new TelemetrySettings(16 * 1024, Duration.ofHours(1), queueSize, 10, window, parallelism, 3,
                Duration.ofMillis(10), new TelemetrySettings.Rollups(Duration.ofSeconds(1), Duration.ofSeconds(1),
                Duration.ofSeconds(1), 1, 1000, Duration.ofHours(1), Duration.ofHours(1), 10));
        return new TelemetryHub(testKit.system(), store, s, new PrometheusRegistry(), Clock.systemUTC());
    }

    private static List<TelemetrySample> msg(int i) {
        return List.of(TelemetrySample.number("t", "d", "k", Instant.ofEpochMilli(1_000_000L + i), i, Instant.now()));
    }

    @Test
    void aFailedWriteIsTriedAgainBeforeTheMessageIsAnswered() throws Exception {
        StubStore store = new StubStore(n -> n == 1 ? CompletableFuture.failedFuture(new IllegalStateException("timeout"))
                : CompletableFuture.completedFuture(null));
        hub(store, 100).submit(msg(1)).toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(2, store.writes.get(), "acknowledged after the second attempt");
    }

    @Test
    void withoutABatchWindowAMessageIsWrittenAtOnceAndWhatArrivesMeanwhileIsTheNextBatch() throws Exception {
        CompletableFuture<Void> first = new CompletableFuture<>();
        StubStore store = new StubStore(n -> n == 1 ? first : CompletableFuture.completedFuture(null));
        TelemetryHub hub = hub(store, 100, Duration.ZERO, 1);
        CompletableFuture<Void> a = hub.submit(msg(0)).toCompletableFuture();
        for (int i = 0; i < 500 && store.writes.get() == 0; i++) {
            Thread.sleep(10); // no timer: the write starts as soon as the stream hands it on
        }
        assertEquals(List.of(1), store.sizes, "the first message is a batch of its own");
        List<CompletableFuture<Void>> later = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            later.add(hub.submit(msg(i)).toCompletableFuture());
        }
        Thread.sleep(500); // lets the stream take them from the queue while the one write slot is busy
        assertEquals(1, store.writes.get(), "no second write while the only slot is busy");
        first.complete(null);
        a.get(5, TimeUnit.SECONDS);
        for (CompletableFuture<Void> f : later) {
            f.get(5, TimeUnit.SECONDS);
        }
        assertEquals(List.of(1, 5), store.sizes, "what arrived during the first write is the second batch");
    }

    @Test
    void aWriteThatKeepsFailingFailsItsMessagesAndTheHubGoesOn() throws Exception {
        AtomicInteger healthyAfter = new AtomicInteger(Integer.MAX_VALUE);
        StubStore store = new StubStore(n -> n >= healthyAfter.get() ? CompletableFuture.completedFuture(null)
                : CompletableFuture.failedFuture(new IllegalStateException("down")));
        TelemetryHub hub = hub(store, 100);
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> hub.submit(msg(1)).toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertEquals("down", e.getCause().getMessage());
        assertEquals(3, store.writes.get(), "three attempts in all");
        healthyAfter.set(0);
        hub.submit(msg(2)).toCompletableFuture().get(5, TimeUnit.SECONDS); // the stream did not fail
    }

    @Test
    void theBenchmarkOnlyDiscardingStoreAcknowledgesAtOnceAndNeverWrites() throws Exception {
        StubStore durable = new StubStore(n -> new CompletableFuture<>()); // a write to it would never complete
        TelemetryHub hub = hub(new BenchDiscardingStore(durable), 100);
        for (int i = 0; i < 20; i++) {
            hub.submit(msg(i)).toCompletableFuture().get(5, TimeUnit.SECONDS);
        }
        assertEquals(0, durable.writes.get(), "nothing reached the real store");
        assertFalse(testKit.system().settings().config().getBoolean("drover.telemetry.bench-discard-writes"),
                "off unless a benchmark turns it on");
    }

    @Test
    void aStalledStoreFillsTheBoundedQueueThenSubmitsAreRefusedAtOnce() throws Exception {
        CompletableFuture<Void> stalled = new CompletableFuture<>();
        StubStore store = new StubStore(n -> stalled);
        TelemetryHub hub = hub(store, 50);
        List<CompletableFuture<Void>> accepted = new ArrayList<>();
        Throwable refusal = null;
        for (int i = 0; i < 10_000 && refusal == null; i++) {
            CompletableFuture<Void> f = hub.submit(msg(i)).toCompletableFuture();
            if (f.isCompletedExceptionally()) {
                refusal = assertThrows(ExecutionException.class, f::get).getCause();
            } else {
                accepted.add(f);
            }
        }
        assertTrue(refusal instanceof TelemetryHub.Overloaded, "refused as overloaded: " + refusal);
        assertTrue(accepted.size() < 200, "bounded: " + accepted.size() + " messages taken before refusing");
        assertFalse(accepted.stream().anyMatch(CompletableFuture::isDone), "nothing acknowledged while the store stalls");
        stalled.complete(null);
        CompletableFuture.allOf(accepted.toArray(CompletableFuture[]::new)).get(5, TimeUnit.SECONDS);
    }
}

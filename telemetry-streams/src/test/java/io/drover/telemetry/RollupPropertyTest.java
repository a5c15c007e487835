package io.drover.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.drover.persistence.Rollup;
import io.drover.persistence.RollupWindow;
import io.drover.persistence.RollupWindow.Resolution;
import io.drover.persistence.TelemetrySample;
import io.drover.persistence.TelemetryStore;
import io.drover.persistence.testing.CassandraExtension;
import io.drover.persistence.testing.TestStores;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Stored rollups equal a brute-force computation over random data, on the real Cassandra, while the
 * device switches between two nodes (two hubs, each with its own tracker) in the middle of a window
 * and some messages are delivered twice, once through each node. The sweeper is off here: the two
 * trackers alone must get every window right, and leave no pending mark behind.
 */
class RollupPropertyTest {

    private static ActorSystem<Void> system;
    private static TelemetryStore store;
    private static TelemetryHub nodeA;
    private static TelemetryHub nodeB;

    record Msg(long offsetMs, double value, int node, boolean redeliver) {}

    @BeforeContainer
    static void start() throws Exception {
        var session = TestStores.session();
        store = TestStores.telemetry(session, CassandraExtension.TEST_KEYSPACE, Duration.ofMillis(300));
        system = ActorSystem.create(Behaviors.empty(), "rollups", ConfigFactory.parseString("pekko.loglevel = WARNING")
                .withFallback(ConfigFactory.load()));
        TelemetrySettings settings = new TelemetrySettings(16 * 1024, Duration.ofHours(1), 10_000, 50, Duration.ofMillis(5), 4, 3, Duration.ofMillis(50),
                new TelemetrySettings.Rollups(Duration.ofMillis(100), Duration.ofMillis(300), Duration.ofMillis(100), 4,
                        100_000, Duration.ofHours(1), Duration.ofHours(1), 500));
        nodeA = new TelemetryHub(system, store, settings, new PrometheusRegistry(), Clock.systemUTC());
        nodeB = new TelemetryHub(system, store, settings, new PrometheusRegistry(), Clock.systemUTC());
    }

    @AfterContainer
    static void stop() {
        system.terminate();
    }

    @Provide
    Arbitrary<List<Msg>> messages() {
        // offsets over 7 minutes that straddle an hour boundary; values with fractions, negatives
        Arbitrary<Msg> msg = Combinators.combine(
                Arbitraries.longs().between(0, 7 * 60_000 - 1),
                Arbitraries.doubles().between(-1000, 1000).ofScale(3),
                Arbitraries.integers().between(0, 1),
                Arbitraries.of(false, false, false, true)).as(Msg::new);
        return msg.list().ofMinSize(1).ofMaxSize(300).uniqueElements(Msg::offsetMs);
    }

    @Property(tries = 6)
    void storedRollupsEqualBruteForce(@ForAll("messages") List<Msg> msgs, @ForAll("switchPoint") int switchPercent)
            throws Exception {
        String tenant = "p" + UUID.randomUUID().toString().substring(0, 8);
        String device = "d1";
        Instant base = Instant.now().minus(Duration.ofDays(2)).truncatedTo(ChronoUnit.HOURS).minus(Duration.ofMinutes(3));
        int switchAt = msgs.size() * switchPercent / 100;
        List<CompletableFuture<Void>> acks = new ArrayList<>();
        List<TelemetrySample> distinct = new ArrayList<>();
        for (int i = 0; i < msgs.size(); i++) {
            Msg m = msgs.get(i);
            TelemetrySample s = TelemetrySample.number(tenant, device, "v", base.plusMillis(m.offsetMs()), m.value(),
                    Instant.now());
            distinct.add(s);
            // before the switch the device is on node A, after it on node B (mid-window: messages of one
            // minute go through both); a re-delivered message goes through the other node too
            TelemetryHub on = i < switchAt ? nodeA : nodeB;
            acks.add(on.submit(List.of(s)).toCompletableFuture());
            if (m.redeliver()) {
                acks.add((on == nodeA ? nodeB : nodeA).submit(List.of(s)).toCompletableFuture());
            }
        }
        CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

        Map<Instant, Rollup> minutes = bruteForce(distinct, Resolution.MINUTE);
        Map<Instant, Rollup> hours = bruteForce(distinct, Resolution.HOUR);
        Instant from = base.minus(Duration.ofHours(1));
        Instant to = base.plus(Duration.ofHours(2));
        List<List<Rollup>> stored = settled(tenant, device, minutes, hours, from, to, () -> true);
        List<Rollup> storedMinutes = stored.get(0);
        List<Rollup> storedHours = stored.get(1);
        assertSame(minutes, storedMinutes);
        assertSame(hours, storedHours);
        // no pending mark left behind for this device
        Instant later = Instant.now().plus(Duration.ofDays(1));
        long marked = store.pending(Resolution.MINUTE, later, 100_000).toCompletableFuture().get().stream()
                .filter(w -> w.tenantId().equals(tenant)).count()
                + store.pending(Resolution.HOUR, later, 100_000).toCompletableFuture().get().stream()
                .filter(w -> w.tenantId().equals(tenant)).count();
        assertEquals(0, marked, "every window's pending mark cleared");
    }

    /**
     * One node, messages in time order: windows it alone wrote are stored from its in-memory fold (no read-back),
     * and a window with a message delivered twice through it is recomputed — the stored rollups equal brute force
     * either way, and exactly the windows without a re-delivery were folded.
     */
    @Property(tries = 4)
    void oneNodeFoldsWhatItAloneWroteAndRecomputesWindowsWithReDeliveries(@ForAll("messages") List<Msg> unsorted)
            throws Exception {
        List<Msg> msgs = new ArrayList<>(unsorted);
        msgs.sort(java.util.Comparator.comparingLong(Msg::offsetMs));
        String tenant = "o" + UUID.randomUUID().toString().substring(0, 8);
        Instant base = Instant.now().minus(Duration.ofDays(2)).truncatedTo(ChronoUnit.HOURS).minus(Duration.ofMinutes(3));
        Thread.sleep(300); // an earlier try's last folds are counted just after they are stored
        long foldedBefore = nodeA.foldedWindows();
        List<CompletableFuture<Void>> acks = new ArrayList<>();
        List<TelemetrySample> distinct = new ArrayList<>();
        java.util.Set<Instant> redelivered = new java.util.HashSet<>();
        for (Msg m : msgs) {
            TelemetrySample s = TelemetrySample.number(tenant, "d1", "v", base.plusMillis(m.offsetMs()), m.value(),
                    Instant.now());
            distinct.add(s);
            acks.add(nodeA.submit(List.of(s)).toCompletableFuture());
            if (m.redeliver()) {
                acks.add(nodeA.submit(List.of(s)).toCompletableFuture());
                redelivered.add(Resolution.MINUTE.bucketOf(s.ts()));
            }
        }
        CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        Map<Instant, Rollup> minutes = bruteForce(distinct, Resolution.MINUTE);
        Map<Instant, Rollup> hours = bruteForce(distinct, Resolution.HOUR);
        long expectFolded = minutes.keySet().stream().filter(b -> !redelivered.contains(b)).count();
        Instant from = base.minus(Duration.ofHours(1));
        Instant to = base.plus(Duration.ofHours(2));
        List<List<Rollup>> stored = settled(tenant, "d1", minutes, hours, from, to,
                () -> nodeA.foldedWindows() - foldedBefore >= expectFolded);
        List<Rollup> storedMinutes = stored.get(0);
        List<Rollup> storedHours = stored.get(1);
        assertSame(minutes, storedMinutes);
        assertSame(hours, storedHours);
        assertEquals(expectFolded, nodeA.foldedWindows() - foldedBefore, "windows stored from the fold");
    }

    /** A node that stored samples and their pending marks, then died before recomputing: the sweeper of another does it. */
    @net.jqwik.api.Example
    void theSweeperRecomputesWindowsLeftPendingByAStoppedNode() throws Exception {
        String tenant = "s" + UUID.randomUUID().toString().substring(0, 8);
        Instant base = Instant.now().minus(Duration.ofDays(1)).truncatedTo(ChronoUnit.HOURS);
        List<TelemetrySample> samples = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            samples.add(TelemetrySample.number(tenant, "d1", "v", base.plusSeconds(i * 7L), i, Instant.now()));
        }
        List<RollupWindow> marks = samples.stream().map(RollupWindow::minuteOf).distinct().toList();
        store.write(samples, marks).toCompletableFuture().get(30, TimeUnit.SECONDS); // the "dead" node's last write
        assertTrue(store.readRollups(tenant, "d1", "v", Resolution.MINUTE, base, base.plus(Duration.ofHours(1)))
                .toCompletableFuture().get().isEmpty(), "nothing recomputed yet");
        TelemetrySettings sweeping = new TelemetrySettings(16 * 1024, Duration.ofHours(1), 1000, 50, Duration.ofMillis(5), 4, 3, Duration.ofMillis(50),
                new TelemetrySettings.Rollups(Duration.ofMillis(100), Duration.ofMillis(300), Duration.ofMillis(100), 4,
                        100_000, Duration.ofMillis(300), Duration.ofMillis(500), 500));
        TelemetryHub survivor = new TelemetryHub(system, store, sweeping, new PrometheusRegistry(),
                Clock.systemUTC());
        try {
            Map<Instant, Rollup> minutes = bruteForce(samples, Resolution.MINUTE);
            Map<Instant, Rollup> hours = bruteForce(samples, Resolution.HOUR);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            List<Rollup> m;
            List<Rollup> h;
            do {
                Thread.sleep(200);
                m = store.readRollups(tenant, "d1", "v", Resolution.MINUTE, base, base.plus(Duration.ofHours(1)))
                        .toCompletableFuture().get();
                h = store.readRollups(tenant, "d1", "v", Resolution.HOUR, base, base.plus(Duration.ofHours(1)))
                        .toCompletableFuture().get();
            } while (!(same(minutes, m) && same(hours, h)) && System.nanoTime() < deadline);
            assertSame(minutes, m);
            assertSame(hours, h);
        } finally {
            survivor.drain().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Provide
    Arbitrary<Integer> switchPoint() {
        return Arbitraries.integers().between(0, 100);
    }

    /**
     * The stored 1 m and 1 h rollups of key "v" in [from, to), read until they equal the expected ones and {@code also}
     * holds, 30 s at most.
     */
    private static List<List<Rollup>> settled(String tenant, String device, Map<Instant, Rollup> minutes,
            Map<Instant, Rollup> hours, Instant from, Instant to, java.util.function.BooleanSupplier also) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        List<Rollup> storedMinutes;
        List<Rollup> storedHours;
        do {
            Thread.sleep(200);
            storedMinutes = store.readRollups(tenant, device, "v", Resolution.MINUTE, from, to).toCompletableFuture().get();
            storedHours = store.readRollups(tenant, device, "v", Resolution.HOUR, from, to).toCompletableFuture().get();
        } while (!(same(minutes, storedMinutes) && same(hours, storedHours) && also.getAsBoolean())
                && System.nanoTime() < deadline);
        return List.of(storedMinutes, storedHours);
    }

    static Map<Instant, Rollup> bruteForce(List<TelemetrySample> samples, Resolution res) {
        Map<Instant, List<TelemetrySample>> by = new TreeMap<>();
        samples.forEach(s -> by.computeIfAbsent(res.bucketOf(s.ts()), b -> new ArrayList<>()).add(s));
        Map<Instant, Rollup> out = new TreeMap<>();
        by.forEach((b, l) -> {
            double min = Double.MAX_VALUE;
            double max = -Double.MAX_VALUE;
            double sum = 0;
            TreeMap<Instant, Double> byTs = new TreeMap<>();
            for (TelemetrySample s : l) {
                min = Math.min(min, s.number());
                max = Math.max(max, s.number());
                sum += s.number();
                byTs.put(s.ts(), s.number());
            }
            out.put(b, new Rollup(b, l.size(), min, max, sum, byTs.firstEntry().getValue(), byTs.firstKey(),
                    byTs.lastEntry().getValue(), byTs.lastKey()));
        });
        return out;
    }

    private static boolean same(Map<Instant, Rollup> expected, List<Rollup> stored) {
        try {
            assertSame(expected, stored);
            return true;
        } catch (AssertionError e) {
            return false;
        }
    }

    private static void assertSame(Map<Instant, Rollup> expected, List<Rollup> stored) {
        TreeSet<Instant> buckets = new TreeSet<>();
        stored.forEach(r -> buckets.add(r.bucket()));
        assertEquals(expected.keySet(), buckets, "one row per window that has samples");
        for (Rollup r : stored) {
            Rollup e = expected.get(r.bucket());
            assertEquals(e.count(), r.count(), "count of " + r.bucket());
            assertEquals(e.min(), r.min(), "min of " + r.bucket());
            assertEquals(e.max(), r.max(), "max of " + r.bucket());
            assertEquals(e.sum(), r.sum(), 1e-6, "sum of " + r.bucket());
            assertEquals(e.first(), r.first(), "first of " + r.bucket());
            assertEquals(e.firstTs(), r.firstTs());
            assertEquals(e.last(), r.last(), "last of " + r.bucket());
            assertEquals(e.lastTs(), r.lastTs());
            assertTrue(r.count() > 0);
        }
    }
}

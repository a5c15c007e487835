package io.drover.telemetry.bench;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.typesafe.config.ConfigFactory;
import io.drover.persistence.PersistenceSettings;
import io.drover.persistence.RollupWindow;
import io.drover.persistence.RollupWindow.Resolution;
import io.drover.persistence.SchemaRunner;
import io.drover.persistence.TelemetrySample;
import io.drover.persistence.TelemetryStore;
import io.drover.persistence.testing.TestStores;
import io.drover.telemetry.TelemetryHub;
import io.drover.telemetry.TelemetrySettings;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Writer and query benchmark against a running Cassandra (load-tests/telemetry-bench.sh), in one run:
 * <ol>
 * <li>baseline: the raw driver writing the same rows (one device message = one telemetry_msg row, its {@code keys}
 *     values cells of its map, V009) as prepared statements, 256 in flight (FACTS.md's best setting);</li>
 * <li>Drover's writer: the same messages through {@link TelemetryHub#submit} (queue, batching by partition,
 *     latest values, rollup pending marks, rollup recomputation running alongside);</li>
 * <li>query latency over a 24 h range of one key at one sample / 10 s: raw rows (8,640) vs the 1-minute
 *     rollups (1,440 rows) vs the 1-hour rollups (24 rows).</li>
 * </ol>
 * Not a test: prints its figures; speed is never asserted.
 */
public final class TelemetryBench {

    private static final int DEVICES = 1000;
    private static final int KEYS = 4;

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 9042;
        Duration phase = Duration.ofSeconds(args.length > 1 ? Integer.parseInt(args[1]) : 20);
        String ks = "drover_bench";
        CqlSession session = CqlSession.builder().addContactPoint(new InetSocketAddress("127.0.0.1", port))
                .withLocalDatacenter("datacenter1").build();
        new SchemaRunner(session, new PersistenceSettings(ks, "{'class': 'SimpleStrategy', 'replication_factor': 1}", true,
                4, "127.0.0.1:" + port, Duration.ofSeconds(60), Path.of("unused"), 256)).migrate();
        session.execute("TRUNCATE " + ks + ".telemetry_msg");
        TelemetryStore store = TestStores.telemetry(session, ks);
        System.out.printf("machine: %d cores, Java %s; Cassandra on 127.0.0.1:%d; %d devices × %d keys a message; %d s a phase%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), port, DEVICES, KEYS,
                phase.toSeconds());

        // 1 and 2, alternated over three rounds (Cassandra warms up during the first): the raw driver baseline,
        // then Drover's writer on the same messages.
        PreparedStatement insert = session.prepare("UPDATE " + ks + ".telemetry_msg USING TTL 2592000 SET nums = nums + ?, "
                + "received_at = ? WHERE tenant_id = ? AND device_id = ? AND day = ? AND ts = ?");
        long t0 = System.currentTimeMillis() - Duration.ofDays(1).toMillis();
        AtomicLong seq = new AtomicLong();
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "bench",
                ConfigFactory.parseString("pekko.loglevel = WARNING").withFallback(ConfigFactory.load()));
        TelemetryHub hub = new TelemetryHub(system, store, TelemetrySettings.fromConfig(system.settings().config()),
                new PrometheusRegistry(), Clock.systemUTC());
        AtomicLong seq2 = new AtomicLong();
        List<Double> ratios = new ArrayList<>();
        for (int round = 1; round <= 3; round++) {
            double driver = run("round " + round + ": raw driver (one row per message, 256 in flight)", phase, 256, () -> {
                long n = seq.getAndIncrement();
                Instant ts = Instant.ofEpochMilli(t0 + n / DEVICES);
                String device = "d" + (n % DEVICES);
                Map<String, Double> values = new HashMap<>();
                for (int k = 0; k < KEYS; k++) {
                    values.put("k" + k, (double) n);
                }
                return session.executeAsync(insert.bind(values, ts, "bench", device, RollupWindow.dayOf(ts), ts))
                        .thenApply(r -> null);
            });
            double drover = run("round " + round + ": Drover writer (TelemetryHub.submit, 10,000 outstanding)", phase, 10_000, () -> {
                long n = seq2.getAndIncrement();
                Instant ts = Instant.ofEpochMilli(t0 + 3_600_000 + n / DEVICES);
                String device = "w" + (n % DEVICES);
                List<TelemetrySample> msg = new ArrayList<>();
                for (int k = 0; k < KEYS; k++) {
                    msg.add(TelemetrySample.number("bench", device, "k" + k, ts, n, ts));
                }
                return hub.submit(msg).exceptionally(e -> null); // an overloaded refusal is retried by a device
            });
            ratios.add(drover / driver);
            System.out.printf("round %d: writer / raw driver = %.2f%n", round, drover / driver);
        }
        System.out.printf("writer / raw driver, rounds 2-3 (warm): %.2f and %.2f%n", ratios.get(1), ratios.get(2));
        hub.drain().toCompletableFuture().get();

        // 3. query latency, 24 h of one key at one sample / 10 s
        Instant end = Instant.now().minus(Duration.ofHours(1)).truncatedTo(java.time.temporal.ChronoUnit.HOURS);
        Instant start = end.minus(Duration.ofDays(1));
        String dev = "q" + System.nanoTime();
        List<TelemetrySample> day = new ArrayList<>();
        Set<RollupWindow> minutes = new HashSet<>();
        for (long t = start.toEpochMilli(); t < end.toEpochMilli(); t += 10_000) {
            TelemetrySample s = TelemetrySample.number("bench", dev, "temp", Instant.ofEpochMilli(t), Math.sin(t / 1e6), Instant.now());
            day.add(s);
            minutes.add(RollupWindow.minuteOf(s));
        }
        for (int i = 0; i < day.size(); i += 500) {
            store.write(day.subList(i, Math.min(day.size(), i + 500)), List.of()).toCompletableFuture().get();
        }
        List<CompletableFuture<?>> rec = new ArrayList<>();
        Semaphore permits = new Semaphore(32);
        Set<RollupWindow> hours = java.util.concurrent.ConcurrentHashMap.newKeySet();
        for (RollupWindow w : minutes) {
            permits.acquire();
            rec.add(store.recompute(w).whenComplete((h, e) -> {
                permits.release();
                h.ifPresent(hours::add);
            }).toCompletableFuture());
        }
        CompletableFuture.allOf(rec.toArray(CompletableFuture[]::new)).get();
        for (RollupWindow h : hours) {
            store.recompute(h).toCompletableFuture().get();
        }
        latency("24 h raw (8,640 rows, limit 10,000)", () -> store.readRaw(new TelemetryStore.RawQuery("bench", dev,
                List.of("temp"), start, end, false, 10_000, Optional.empty())), 8640,
                p -> p.series().get("temp").size());
        latency("24 h from 1 m rollups (1,440 rows)", () -> store.readRollups("bench", dev, "temp", Resolution.MINUTE,
                start, end), 1440, List::size);
        latency("24 h from 1 h rollups (24 rows)", () -> store.readRollups("bench", dev, "temp", Resolution.HOUR,
                start, end), 24, List::size);
        system.terminate();
        session.close();
    }

    private static double run(String name, Duration phase, int inFlight, Supplier<CompletionStage<Void>> op)
            throws Exception {
        Semaphore permits = new Semaphore(inFlight);
        AtomicLong done = new AtomicLong();
        // 3 s warm-up, then the measured phase
        long warmEnd = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (System.nanoTime() < warmEnd) {
            permits.acquire();
            op.get().whenComplete((r, e) -> permits.release());
        }
        long begin = System.nanoTime();
        long stop = begin + phase.toNanos();
        while (System.nanoTime() < stop) {
            permits.acquire();
            op.get().whenComplete((r, e) -> {
                done.incrementAndGet();
                permits.release();
            });
        }
        permits.acquire(inFlight);
        double secs = (System.nanoTime() - begin) / 1e9;
        double rows = done.get() * KEYS / secs;
        System.out.printf("%-62s %,10.0f values/s (%,d messages in %.1f s)%n", name, rows, done.get(), secs);
        return rows;
    }

    private static <T> void latency(String name, Supplier<CompletionStage<T>> query, int expected,
            java.util.function.ToIntFunction<T> size) throws Exception {
        for (int i = 0; i < 20; i++) {
            query.get().toCompletableFuture().get();
        }
        long[] ns = new long[200];
        for (int i = 0; i < ns.length; i++) {
            long t = System.nanoTime();
            T r = query.get().toCompletableFuture().get();
            ns[i] = System.nanoTime() - t;
            if (size.applyAsInt(r) != expected) {
                throw new IllegalStateException(name + ": " + size.applyAsInt(r) + " rows, expected " + expected);
            }
        }
        Arrays.sort(ns);
        System.out.printf("%-62s p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms%n", name, ns[ns.length / 2] / 1e6,
                ns[(int) (ns.length * 0.99)] / 1e6, ns[ns.length - 1] / 1e6);
    }
}

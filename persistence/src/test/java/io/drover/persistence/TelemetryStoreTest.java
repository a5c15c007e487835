package io.drover.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import io.drover.persistence.cassandra.CassandraAccessStore;
import io.drover.persistence.cassandra.CassandraTelemetryStore;
import io.drover.persistence.testing.CassandraExtension;
import io.drover.persistence.testing.TestStores;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The telemetry store against the real Cassandra: idempotence, pagination, latest values, TTL. */
@ExtendWith(CassandraExtension.class)
class TelemetryStoreTest {

    private static CqlSession session;
    private static CassandraTelemetryStore store;

    @BeforeAll
    static void connect() throws Exception {
        session = TestStores.session();
        store = TestStores.telemetry(session, CassandraExtension.TEST_KEYSPACE);
    }

    private static <T> T await(CompletionStage<T> s) throws Exception {
        return s.toCompletableFuture().get();
    }

    private static String uniq(String prefix) {
        return prefix + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void batchesStayUnderCassandrasBatchWarningThresholds() throws Exception {
        String tenant = uniq("t");
        // The warning path works: a multi-partition unlogged batch over batch_size_warn_threshold (5 KiB) is
        // answered with a warning the driver hands back (so the count below can be other than zero).
        StringBuilder big = new StringBuilder("BEGIN UNLOGGED BATCH ");
        for (int d = 0; d < 3; d++) {
            big.append("INSERT INTO ").append(CassandraExtension.TEST_KEYSPACE).append(".telemetry_raw (tenant_id, device_id, ")
                    .append("day, key, ts, str) VALUES ('").append(tenant).append("', 'w").append(d).append("', 1, 'k', 0, '")
                    .append("x".repeat(2500)).append("'); ");
        }
        assertFalse(session.execute(big.append("APPLY BATCH").toString()).getExecutionInfo().getWarnings().isEmpty());

        // The store's batches: many devices, long keys, each value type, a pending mark per key and minute
        long before = store.batchWarnings();
        Instant now = Instant.now().minusSeconds(30);
        List<TelemetrySample> samples = new ArrayList<>();
        List<RollupWindow> marks = new ArrayList<>();
        for (int d = 0; d < 200; d++) {
            String device = "a-device-with-a-rather-long-identifier-" + d;
            for (int k = 0; k < 4; k++) {
                String key = "a-long-telemetry-key-name-number-" + k;
                Instant ts = now.plusMillis(d);
                TelemetrySample s = switch (k) {
                    case 0 -> TelemetrySample.number(tenant, device, key, ts, d, now);
                    case 1 -> new TelemetrySample(tenant, device, key, ts, null, "s".repeat(120), null, null, now);
                    case 2 -> new TelemetrySample(tenant, device, key, ts, null, null, Boolean.TRUE, null, now);
                    default -> new TelemetrySample(tenant, device, key, ts, null, null, null,
                            "{\"a\":\"" + "j".repeat(200) + "\"}", now);
                };
                samples.add(s);
                if (k == 0) {
                    marks.add(RollupWindow.minuteOf(s));
                }
            }
        }
        await(store.write(samples, marks));
        assertEquals(before, store.batchWarnings(), "batch answers with a Cassandra warning");
        assertEquals(1, await(store.read(tenant, "a-device-with-a-rather-long-identifier-199",
                "a-long-telemetry-key-name-number-1", now.minusSeconds(1), now.plusSeconds(1), 10)).size());
    }

    /**
     * The fold is stored as given only when its writer is the window's only writer and nothing is stored yet: a
     * deliberately wrong fold (count 999) shows which path was taken; in every other case the true rollup of the
     * raw rows is.
     */
    @Test
    void aFoldIsStoredOnlyForItsWritersOwnFreshWindowOtherwiseTheWindowIsRecomputed() throws Exception {
        String tenant = uniq("f");
        Instant bucket = Instant.now().minus(Duration.ofHours(3)).truncatedTo(java.time.temporal.ChronoUnit.MINUTES);
        List<String> devices = List.of("alone", "two-writers", "unfolded-too", "stored-before", "no-mark");
        for (String d : devices) {
            List<TelemetrySample> samples = List.of(TelemetrySample.number(tenant, d, "v", bucket.plusSeconds(1), 1, bucket),
                    TelemetrySample.number(tenant, d, "v", bucket.plusSeconds(2), 2, bucket));
            RollupWindow w = RollupWindow.minuteOf(samples.get(0));
            switch (d) {
                case "alone", "stored-before" -> await(store.write(samples, List.of(w), List.of(), "A"));
                case "two-writers" -> {
                    await(store.write(samples.subList(0, 1), List.of(w), List.of(), "A"));
                    await(store.write(samples.subList(1, 2), List.of(w), List.of(), "B"));
                }
                case "unfolded-too" -> {
                    await(store.write(samples.subList(0, 1), List.of(), List.of(w), "A"));
                    await(store.write(samples.subList(1, 2), List.of(w), List.of(), "A"));
                }
                default -> await(store.write(samples, List.of()));
            }
            if (d.equals("stored-before")) {
                await(store.recompute(w));
            }
        }
        Rollup wrong = new Rollup(bucket, 999, 0, 0, 0, 0, bucket, 0, bucket);
        for (String d : devices) {
            RollupWindow w = new RollupWindow(tenant, d, "v", RollupWindow.Resolution.MINUTE, bucket);
            TelemetryStore.Folded f = await(store.fold(w, wrong, "A"));
            List<Rollup> stored = await(store.readRollups(tenant, d, "v", RollupWindow.Resolution.MINUTE, bucket,
                    bucket.plusSeconds(60)));
            assertEquals(1, stored.size(), d);
            boolean alone = d.equals("alone");
            assertEquals(alone, f.folded(), d);
            assertEquals(alone ? 999 : 2, stored.get(0).count(), d);
            assertEquals(Optional.of(w.hour()), f.hour(), d);
        }
        // A recomputation after a fold wins over it (the fold is written at the window's end)
        RollupWindow alone = new RollupWindow(tenant, "alone", "v", RollupWindow.Resolution.MINUTE, bucket);
        await(store.recompute(alone));
        assertEquals(2, await(store.readRollups(tenant, "alone", "v", RollupWindow.Resolution.MINUTE, bucket,
                bucket.plusSeconds(60))).get(0).count());
    }

    private static long count(String table, String tenant, String device, Instant ts) {
        return session.execute("SELECT count(*) FROM " + CassandraExtension.TEST_KEYSPACE + "." + table
                + " WHERE tenant_id = ? AND device_id = ? AND day = ?", tenant, device, RollupWindow.dayOf(ts)).one()
                .getLong(0);
    }

    @Test
    void aMessageIsOneRowWithEachValueAsACellAndEachKeyReadsBackAlone() throws Exception {
        String tenant = uniq("m");
        Instant t0 = Instant.now().minus(Duration.ofHours(2)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS); // a CQL timestamp's precision
        List<TelemetrySample> first = List.of(TelemetrySample.number(tenant, "d1", "n", t0, 1.5, now),
                new TelemetrySample(tenant, "d1", "s", t0, null, "on", null, null, now),
                new TelemetrySample(tenant, "d1", "b", t0, null, null, false, null, now),
                new TelemetrySample(tenant, "d1", "j", t0, null, null, null, "{\"a\":[1,2]}", now),
                new TelemetrySample(tenant, "d1", "rare", t0, null, "once", null, null, now));
        await(store.write(first, List.of()));
        for (int i = 1; i <= 60; i++) { // 60 more messages without "rare"
            await(store.write(List.of(TelemetrySample.number(tenant, "d1", "n", t0.plusSeconds(i), i, now)), List.of()));
        }
        assertEquals(61, count("telemetry_msg", tenant, "d1", t0), "one row per message, whatever its keys");
        assertEquals(0, count("telemetry_raw", tenant, "d1", t0), "the layout before V009 gets no writes");
        Instant from = t0.minusSeconds(1);
        Instant to = t0.plusSeconds(100);
        assertEquals(first.get(0), one(store.read(tenant, "d1", "n", from, t0.plusMillis(1), 10)));
        assertEquals(first.get(1), one(store.read(tenant, "d1", "s", from, to, 10)));
        assertEquals(first.get(2), one(store.read(tenant, "d1", "b", from, to, 10)));
        assertEquals(first.get(3), one(store.read(tenant, "d1", "j", from, to, 10)));
        // limits count the key's samples, not rows: the one "rare" sample is under 60 newer rows without it
        assertEquals(first.get(4), one(store.read(tenant, "d1", "rare", from, to, 1)));
        assertEquals(61, await(store.read(tenant, "d1", "n", from, to, 1000)).size());
        // a client that sends one key as two types at one time: numbers come first (V009)
        await(store.write(List.of(new TelemetrySample(tenant, "d1", "n", t0, null, "text", null, null, now)), List.of()));
        assertEquals(1.5, one(store.read(tenant, "d1", "n", from, t0.plusMillis(1), 10)).number());
    }

    private static TelemetrySample one(CompletionStage<List<TelemetrySample>> read) throws Exception {
        List<TelemetrySample> l = await(read);
        assertEquals(1, l.size(), "samples: " + l);
        return l.get(0);
    }

    /**
     * Until the raw retention has passed after an upgrade, telemetry_raw (the layout before V009) holds samples the
     * new layout does not: raw reads, recomputed rollups and latest values merge it in, and a sample in both counts once.
     */
    @Test
    void rowsOfTheLayoutBeforeV009AreMergedIntoReadsRollupsAndLatestValues() throws Exception {
        String tenant = uniq("l");
        Instant bucket = Instant.now().minus(Duration.ofHours(1)).truncatedTo(java.time.temporal.ChronoUnit.MINUTES);
        String insert = "INSERT INTO " + CassandraExtension.TEST_KEYSPACE + ".telemetry_raw (tenant_id, device_id, day, "
                + "key, ts, num, received_at) VALUES (?, 'd1', ?, ?, ?, ?, ?)";
        int day = RollupWindow.dayOf(bucket);
        session.execute(insert, tenant, day, "k", bucket.plusSeconds(1), 1.0, bucket);
        session.execute(insert, tenant, day, "k", bucket.plusSeconds(2), 2.0, bucket);
        session.execute(insert, tenant, day, "x", bucket.plusSeconds(40), 40.0, bucket); // only in the old layout
        CassandraTelemetryStore legacy = TestStores.telemetry(session, CassandraExtension.TEST_KEYSPACE, 1000, null);
        CassandraTelemetryStore newOnly = TestStores.telemetry(session, CassandraExtension.TEST_KEYSPACE, 1000, false);
        // the sample at +2 s again (re-delivered across the upgrade), one at +3 s, an older "x" than the old layout's
        await(legacy.write(List.of(TelemetrySample.number(tenant, "d1", "k", bucket.plusSeconds(2), 2, bucket),
                TelemetrySample.number(tenant, "d1", "x", bucket.plusSeconds(3), 3, bucket)), List.of()));
        await(legacy.write(List.of(TelemetrySample.number(tenant, "d1", "k", bucket.plusSeconds(3), 3, bucket)), List.of()));
        Instant to = bucket.plusSeconds(60);
        assertEquals(List.of(3.0, 2.0, 1.0), await(legacy.read(tenant, "d1", "k", bucket, to, 10)).stream()
                .map(TelemetrySample::number).toList(), "auto: telemetry_raw has rows, so it is read too");
        assertEquals(List.of(3.0, 2.0), await(newOnly.read(tenant, "d1", "k", bucket, to, 10)).stream()
                .map(TelemetrySample::number).toList());
        assertEquals(List.of(3.0), await(legacy.read(tenant, "d1", "k", bucket, to, 1)).stream()
                .map(TelemetrySample::number).toList());
        TelemetryStore.RawPage asc = await(legacy.readRaw(new TelemetryStore.RawQuery(tenant, "d1", List.of("k"), bucket,
                to, true, 2, Optional.empty())));
        assertEquals(List.of(1.0, 2.0), asc.series().get("k").stream().map(TelemetrySample::number).toList());
        assertEquals(List.of(3.0), await(legacy.readRaw(new TelemetryStore.RawQuery(tenant, "d1", List.of("k"), bucket,
                to, true, 2, asc.nextCursor()))).series().get("k").stream().map(TelemetrySample::number).toList());

        await(legacy.recompute(RollupWindow.minuteOf(TelemetrySample.number(tenant, "d1", "k", bucket, 0, bucket))));
        Rollup minute = await(legacy.readRollups(tenant, "d1", "k", RollupWindow.Resolution.MINUTE, bucket, to)).get(0);
        assertEquals(3, minute.count(), "the sample in both layouts counts once");
        assertEquals(6.0, minute.sum());

        assertEquals(40.0, await(legacy.latest(tenant, "d1", Set.of("x"))).get("x").number(),
                "the old layout's newer value");
        assertEquals(3.0, await(newOnly.latest(tenant, "d1", Set.of("x"))).get("x").number());
        assertEquals(3.0, await(legacy.latest(tenant, "d1", Set.of("k"))).get("k").number());
    }

    /**
     * A key the device sends rarely: its newest sample waits for its checkpoint while messages without it go by, and
     * is checkpointed once half the latest scan's row budget has passed, so the scan never needs more rows than that.
     */
    @Test
    void aRarelySentKeysWaitingValueIsCheckpointedBeforeTheLatestScanWouldMissIt() throws Exception {
        String tenant = uniq("r");
        CassandraTelemetryStore small = TestStores.telemetry(session, CassandraExtension.TEST_KEYSPACE, 20, false);
        Instant t0 = Instant.now().minus(Duration.ofMinutes(30));
        Instant now = Instant.now();
        await(small.write(List.of(TelemetrySample.number(tenant, "d1", "r", t0, 1, now)), List.of()));
        await(small.write(List.of(TelemetrySample.number(tenant, "d1", "r", t0.plusSeconds(1), 2, now)), List.of()));
        for (int i = 2; i < 12; i++) {
            await(small.write(List.of(TelemetrySample.number(tenant, "d1", "n", t0.plusSeconds(i), i, now)), List.of()));
            if (i == 5) {
                assertEquals(1.0, checkpoint(tenant, "r"), "waiting: the checkpoint still holds the first value");
                assertEquals(2.0, await(small.latest(tenant, "d1", Set.of("r"))).get("r").number(), "found by the scan");
            }
        }
        assertEquals(2.0, checkpoint(tenant, "r"), "checkpointed after 10 (20 / 2) messages without it");
        for (int i = 12; i < 40; i++) {
            await(small.write(List.of(TelemetrySample.number(tenant, "d1", "n", t0.plusSeconds(i), i, now)), List.of()));
        }
        long before = small.latestQueries();
        assertEquals(2.0, await(small.latest(tenant, "d1", Set.of("r"))).get("r").number());
        assertTrue(small.latestQueries() - before <= 4, "the checkpoints and at most 20 rows (of one or two days)");
    }

    /**
     * The hub stores an hour once, after it has closed; until then (and for a while after) a query computes it from its
     * stored minutes, so an hour in progress is as current as its minutes and a stale stored row of it is not shown.
     */
    @Test
    void anHourInProgressIsMergedFromItsStoredMinutes() throws Exception {
        String tenant = uniq("h");
        Instant hour = Instant.now().minus(Duration.ofMinutes(3)).truncatedTo(java.time.temporal.ChronoUnit.HOURS);
        TelemetrySample a = TelemetrySample.number(tenant, "d1", "v", hour.plusSeconds(10), 4, hour);
        TelemetrySample b = TelemetrySample.number(tenant, "d1", "v", hour.plusSeconds(70), 6, hour);
        await(store.write(List.of(a), List.of(RollupWindow.minuteOf(a))));
        RollupWindow h = await(store.recompute(RollupWindow.minuteOf(a))).orElseThrow();
        await(store.recompute(h)); // an hour row stored early, holding the first minute only
        await(store.write(List.of(b), List.of(RollupWindow.minuteOf(b))));
        await(store.recompute(RollupWindow.minuteOf(b)));
        assertEquals(1, session.execute("SELECT count FROM " + CassandraExtension.TEST_KEYSPACE + ".telemetry_rollup_1h "
                + "WHERE tenant_id = ? AND device_id = 'd1' AND month = ? AND key = 'v' AND bucket = ?", tenant,
                RollupWindow.monthOf(hour), hour).one().getLong(0), "the stored row is behind");
        List<Rollup> hours = await(store.readRollups(tenant, "d1", "v", RollupWindow.Resolution.HOUR,
                hour.minus(Duration.ofHours(1)), hour.plus(Duration.ofHours(3))));
        assertEquals(1, hours.size(), "one hour, none for the hours without minutes: " + hours);
        assertEquals(Rollup.of(hour, List.of(a, b)), hours.get(0));
    }

    @Test
    void reDeliveryOfTheSameMessageIsOneRow() throws Exception {
        String tenant = uniq("t");
        Instant ts = Instant.now().minus(Duration.ofDays(2)).plusMillis(123);
        TelemetrySample s = TelemetrySample.number(tenant, "d1", "temp", ts, 21.5, Instant.now());
        await(store.write(List.of(s), List.of()));
        await(store.write(List.of(s, s), List.of()));
        List<TelemetrySample> rows = await(store.read(tenant, "d1", "temp", ts.minusSeconds(60), ts.plusSeconds(60), 100));
        assertEquals(1, rows.size());
        assertEquals(21.5, rows.get(0).number());
    }

    @Test
    void pagesOverKeysAndDaysWithoutGapsOrRepeats() throws Exception {
        String tenant = uniq("t");
        // recent (within the 30-day retention), starting 2 h before a UTC midnight
        Instant start = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.DAYS).minus(Duration.ofDays(3)).minus(Duration.ofHours(2));
        List<TelemetrySample> all = new ArrayList<>();
        // three keys over three UTC days (two partitions boundaries), irregular spacing, one JSON/string/bool key
        for (int i = 0; i < 140; i++) {
            Instant ts = start.plusSeconds(i * 997L + (i % 7));
            all.add(TelemetrySample.number(tenant, "d1", "a", ts, i, Instant.now()));
            if (i % 2 == 0) {
                all.add(new TelemetrySample(tenant, "d1", "b", ts, null, "s" + i, null, null, Instant.now()));
            }
            if (i % 5 == 0) {
                all.add(new TelemetrySample(tenant, "d1", "c", ts, null, null, null, "{\"i\":" + i + "}", Instant.now()));
            }
        }
        await(store.write(all, List.of()));
        Instant from = start;
        Instant to = start.plus(Duration.ofDays(3));
        for (boolean asc : List.of(true, false)) {
            for (int limit : List.of(1, 7, 50, 1000)) {
                List<String> seen = new ArrayList<>();
                Optional<String> cursor = Optional.empty();
                int pages = 0;
                do {
                    TelemetryStore.RawPage page = await(store.readRaw(new TelemetryStore.RawQuery(tenant, "d1",
                            List.of("c", "a", "b"), from, to, asc, limit, cursor)));
                    int n = page.series().values().stream().mapToInt(List::size).sum();
                    assertTrue(n <= limit);
                    page.series().forEach((k, l) -> {
                        for (int i = 1; i < l.size(); i++) {
                            assertTrue(asc ? l.get(i).ts().isAfter(l.get(i - 1).ts()) : l.get(i).ts().isBefore(l.get(i - 1).ts()),
                                    "ordered by time within a key");
                        }
                        l.forEach(s -> seen.add(k + "@" + s.ts().toEpochMilli()));
                    });
                    cursor = page.nextCursor();
                    pages++;
                } while (cursor.isPresent() && pages < 10_000);
                assertEquals(all.size(), seen.size(), "every sample once (limit " + limit + ", asc " + asc + ")");
                assertEquals(all.size(), new HashSet<>(seen).size(), "no repeats");
                assertEquals("c", seen.get(0).split("@")[0], "keys in the query's order");
            }
        }
        ExecutionException bad = assertThrows(ExecutionException.class, () -> await(store.readRaw(
                new TelemetryStore.RawQuery(tenant, "d1", List.of("a"), from, to, true, 5, Optional.of("not-a-cursor")))));
        assertTrue(bad.getCause() instanceof IllegalArgumentException);
    }

    @Test
    void aPageLargerThanTheDriversFetchSizeIsComplete() throws Exception {
        String tenant = uniq("t");
        Instant day = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.DAYS).minus(Duration.ofDays(1));
        List<TelemetrySample> rows = new ArrayList<>();
        for (int i = 0; i < 6000; i++) { // one partition, more rows than the driver's 5,000-row page
            rows.add(TelemetrySample.number(tenant, "d1", "k", day.plusSeconds(i * 10L), i, Instant.now()));
        }
        for (int i = 0; i < rows.size(); i += 500) {
            await(store.write(rows.subList(i, i + 500), List.of()));
        }
        assertEquals(6000, await(store.read(tenant, "d1", "k", day, day.plus(Duration.ofDays(1)), 10_000)).size());
    }

    @Test
    void latestKeepsTheNewestSampleEvenWhenAnOlderOneArrivesLater() throws Exception {
        String tenant = uniq("t");
        Instant t0 = Instant.now().minus(Duration.ofHours(5));
        await(store.write(List.of(TelemetrySample.number(tenant, "d1", "temp", t0.plusSeconds(10), 2, Instant.now()),
                new TelemetrySample(tenant, "d1", "state", t0, null, "on", null, null, Instant.now())), List.of()));
        await(store.write(List.of(TelemetrySample.number(tenant, "d1", "temp", t0, 1, Instant.now())), List.of()));
        Map<String, TelemetrySample> latest = await(store.latest(tenant, "d1", Set.of()));
        assertEquals(2.0, latest.get("temp").number(), "a late older sample does not replace the newer one");
        assertEquals("on", latest.get("state").text());
        assertEquals(Set.of("temp"), await(store.latest(tenant, "d1", Set.of("temp"))).keySet());
        assertEquals(List.of("state", "temp"), await(store.keys(tenant, "d1")), "every key, sorted");
    }

    private static double checkpoint(String tenant, String key) {
        return session.execute("SELECT num FROM " + CassandraExtension.TEST_KEYSPACE
                + ".telemetry_latest WHERE tenant_id = ? AND device_id = ? AND key = ?", tenant, "d1", key).one()
                .getDouble("num");
    }

    @Test
    void latestFindsRecentValuesNewerThanTheirCheckpointAndTheFlushWritesThem() throws Exception {
        String tenant = uniq("t");
        Instant now = Instant.now();
        // the first value of a key writes its checkpoint row; the next ones (within the refresh span) wait
        await(store.write(List.of(TelemetrySample.number(tenant, "d1", "k", now.minus(Duration.ofMinutes(30)), 1, now)), List.of()));
        await(store.write(List.of(TelemetrySample.number(tenant, "d1", "k", now.minus(Duration.ofMinutes(20)), 2, now)), List.of()));
        await(store.write(List.of(TelemetrySample.number(tenant, "d1", "k", now.minus(Duration.ofMinutes(10)), 3, now)), List.of()));
        assertEquals(1.0, checkpoint(tenant, "k"), "the checkpoint was not rewritten within the refresh span");
        assertEquals(3.0, await(store.latest(tenant, "d1", Set.of())).get("k").number(),
                "the newest value, found in the recent raw partitions");
        assertTrue(await(store.flushLatest(true)) >= 1);
        assertEquals(3.0, checkpoint(tenant, "k"), "the waiting checkpoint was written");
    }

    @Test
    void backfilledValuesOlderThanTheScanAreCheckpointedAtOnce() throws Exception {
        String tenant = uniq("t");
        Instant now = Instant.now();
        for (int day = 3; day >= 1; day--) {
            await(store.write(List.of(TelemetrySample.number(tenant, "d1", "k", now.minus(Duration.ofDays(day)), 4 - day,
                    now)), List.of()));
        }
        assertEquals(3.0, checkpoint(tenant, "k"), "no scan reaches a day back: the row holds it at once");
        assertEquals(3.0, await(store.latest(tenant, "d1", Set.of())).get("k").number());
        await(store.write(List.of(TelemetrySample.number(tenant, "d1", "k", now.minus(Duration.ofDays(5)), 9, now)), List.of()));
        assertEquals(3.0, checkpoint(tenant, "k"), "an older sample never replaces the newer one");
    }

    @Test
    void latestCostsAConstantNumberOfQueriesWhateverTheHistory() throws Exception {
        String tenant = uniq("t");
        Instant now = Instant.now();
        await(store.write(List.of(TelemetrySample.number(tenant, "d1", "old", now.minus(Duration.ofDays(3000)), 1, now),
                TelemetrySample.number(tenant, "d1", "new", now.minusSeconds(60), 2, now)), List.of()));
        long before = store.latestQueries();
        Map<String, TelemetrySample> latest = await(store.latest(tenant, "d1", Set.of()));
        long queries = store.latestQueries() - before;
        assertEquals(1.0, latest.get("old").number());
        assertEquals(2.0, latest.get("new").number());
        assertTrue(queries <= 4, "one read of the checkpoints and at most three day partitions, not one per day since "
                + "the oldest key: " + queries);
    }

    @Test
    void aTenantsRetentionIsTheTtlOfItsSamples() throws Exception {
        String tenant = uniq("t");
        CassandraAccessStore access = new CassandraAccessStore(session, CassandraExtension.TEST_KEYSPACE);
        await(access.createTenant(new Tenant(tenant, tenant, Instant.now())));
        await(access.setRetention(tenant, new Retention.Overrides(1, null, null)));
        Instant now = Instant.now();
        // 1 day of retention, sample 1 day minus 3 s old: it expires about 3 s after it was written.
        Instant old = now.minus(Duration.ofDays(1)).plusSeconds(3);
        Instant fresh = now.minusSeconds(1);
        await(store.write(List.of(TelemetrySample.number(tenant, "d1", "k", old, 1, now),
                TelemetrySample.number(tenant, "d1", "k", fresh, 2, now)), List.of()));
        Instant from = now.minus(Duration.ofDays(2));
        Instant to = now.plusSeconds(60);
        assertEquals(2, await(store.read(tenant, "d1", "k", from, to, 10)).size(), "both stored");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        List<TelemetrySample> left;
        do {
            Thread.sleep(500);
            left = await(store.read(tenant, "d1", "k", from, to, 10));
        } while (left.size() > 1 && System.nanoTime() < deadline);
        assertEquals(1, left.size(), "the sample past its tenant's retention expired");
        assertEquals(2.0, left.get(0).number());
        Retention r = Retention.of(await(access.retention(tenant)), new Retention(30, 90, 730));
        assertEquals(new Retention(1, 90, 730), r);
        assertFalse(await(store.read(tenant, "d1", "k", from, to, 10)).isEmpty());
    }
}

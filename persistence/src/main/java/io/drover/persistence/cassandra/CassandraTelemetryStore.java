package io.drover.persistence.cassandra;

import static io.drover.persistence.RollupWindow.dayOf;
import static io.drover.persistence.RollupWindow.monthOf;

import com.datastax.oss.driver.api.core.CqlIdentifier;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.ProtocolVersion;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatementBuilder;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.type.codec.TypeCodecs;
import io.drover.persistence.Retention;
import io.drover.shard.BoundedCache;
import io.drover.persistence.RetentionPolicy;
import io.drover.persistence.Rollup;
import io.drover.persistence.RollupWindow;
import io.drover.persistence.RollupWindow.Resolution;
import io.drover.persistence.TelemetrySample;
import io.drover.persistence.TelemetryStore;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@link TelemetryStore} on the tables of V003/V004 (see docs/telemetry.md).
 *
 * <p>Writes: the raw rows of a (tenant, device, day) partition go together with the pending marks of
 * that day's new 1-minute windows (same partition key, so one atomic mutation), the latest values of a
 * device are written {@code USING TIMESTAMP} = sample time so an older sample never replaces a newer one.
 * TTL = the tenant's retention counted from the sample's time. Whole partitions whose replicas are the
 * same nodes share one unlogged batch (at most {@value #MAX_PARTITIONS} partitions, {@value #MAX_ROWS} rows
 * and ~{@value #MAX_BATCH_BYTES} bytes, under Cassandra's default batch warning thresholds): one request carries
 * many devices' messages, and the coordinator is a replica of all of them (see docs/telemetry.md).
 *
 * <p>Recompute: the aggregates are written with the read's start time as write timestamp (a later
 * read wins over an earlier one, whatever order the writes arrive in), and the pending mark is cleared
 * at that time minus {@code markMargin}: a mark written by a batch that may still have been in flight
 * when the read started survives, and the window is recomputed again.
 */
public final class CassandraTelemetryStore implements TelemetryStore {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(CassandraTelemetryStore.class);

    private static final int MAX_BATCH = 100;
    /** Cassandra warns of unlogged batches over 10 partitions (unlogged_batch_across_partitions_warn_threshold). */
    static final int MAX_PARTITIONS = 10;
    /** At most this many rows in a multi-partition batch (a bigger partition goes alone). */
    static final int MAX_ROWS = 40;
    /**
     * Estimated size ({@link #estimatedSize}) a multi-partition batch stays under: Cassandra warns of (and logs)
     * every multi-partition batch over batch_size_warn_threshold, 5 KiB (5,120) by default, and fails it over 50 KiB.
     * The estimate is an upper bound of Cassandra's figure, so this limit keeps under the warning.
     */
    static final int MAX_BATCH_BYTES = 5000;
    private static final String ROLLUP_COLS = "bucket, count, min, max, sum, first, first_ts, last, last_ts";

    private final CqlSession session;
    private final CqlIdentifier keyspace;
    private final RetentionPolicy retention;
    private final Clock clock;
    private final long markMarginMicros;
    private final PreparedStatement insertRaw;
    private static final List<String> RAW_POSITIONS = List.of("tenant_id", "device_id", "day", "key", "ts", "num", "str",
            "bool", "json", "received_at", "[ttl]");
    private final PreparedStatement markMinute;
    private final PreparedStatement markHour;
    private final PreparedStatement selectMark;
    private final PreparedStatement insertLatest;
    private final PreparedStatement selectRawDesc;
    private final PreparedStatement selectRawAsc;
    private final PreparedStatement selectMinuteSource;
    private final PreparedStatement selectMinutes;
    private final PreparedStatement selectHours;
    private final PreparedStatement writeMinute;
    private final PreparedStatement writeHour;
    private final PreparedStatement clearMinute;
    private final PreparedStatement clearHour;
    private final PreparedStatement selectLatest;
    private final PreparedStatement selectNewestRaw;
    private final PreparedStatement selectKeys;
    private final long latestRefreshMs;
    private final int maxTrackedLatest;
    /** What this node last wrote to a (tenant, device, key)'s row in telemetry_latest: when, and the sample's time. */
    private record Checkpoint(long writtenAt, long ts) {}

    /** (tenant, device, key) → this node's last checkpoint. Bounded LRU: forgetting one only means writing again. */
    private final BoundedCache<String, Checkpoint> checkpoints;
    /**
     * (tenant, device, key) → the newest sample written since that key's checkpoint and not yet in it ({@link
     * #flushLatest} writes them once the checkpoint is a refresh span old). Bounded: when full, a sample is
     * checkpointed at once instead.
     */
    private final Map<String, TelemetrySample> unflushed = new java.util.concurrent.ConcurrentHashMap<>();
    /** Cassandra requests {@link #latest} made (what its cost is tested by). */
    private final java.util.concurrent.atomic.AtomicLong latestQueries = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong batchWarnings = new java.util.concurrent.atomic.AtomicLong();
    private final PreparedStatement pendingMinutes;
    private final PreparedStatement pendingHours;

    public CassandraTelemetryStore(CqlSession session, String ks, RetentionPolicy retention, Duration markMargin,
            Clock clock) {
        this(session, ks, retention, markMargin, Duration.ofHours(1), 1_000_000, clock);
    }

    /**
     * @param latestRefresh how stale a device key's row in telemetry_latest may get: newer values are read from
     *     the raw partitions that cover this span (see {@link #latest}), so a message needs no extra write
     */
    public CassandraTelemetryStore(CqlSession session, String ks, RetentionPolicy retention, Duration markMargin,
            Duration latestRefresh, int maxTrackedLatest, Clock clock) {
        this.session = session;
        this.keyspace = CqlIdentifier.fromCql(ks);
        this.latestRefreshMs = latestRefresh.toMillis();
        this.maxTrackedLatest = maxTrackedLatest;
        this.checkpoints = new BoundedCache<>(maxTrackedLatest, latestRefresh.multipliedBy(2));
        this.retention = retention;
        this.clock = clock;
        this.markMarginMicros = markMargin.toNanos() / 1000;
        insertRaw = session.prepare("INSERT INTO " + ks + ".telemetry_raw (tenant_id, device_id, day, key, ts, num, str, "
                + "bool, json, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?");
        List<String> rawVars = new ArrayList<>();
        insertRaw.getVariableDefinitions().forEach(d -> rawVars.add(d.getName().asInternal()));
        if (!rawVars.equals(RAW_POSITIONS)) { // bindRaw binds by position
            throw new IllegalStateException("telemetry_raw insert variables " + rawVars + ", bindRaw expects " + RAW_POSITIONS);
        }
        markMinute = session.prepare("UPDATE " + ks + ".telemetry_rollup_1m USING TTL ? SET pending_at = ?, writers = writers + ? "
                + "WHERE tenant_id = ? AND device_id = ? AND day = ? AND key = ? AND bucket = ?");
        markHour = session.prepare("UPDATE " + ks + ".telemetry_rollup_1h USING TTL ? SET pending_at = ? "
                + "WHERE tenant_id = ? AND device_id = ? AND month = ? AND key = ? AND bucket = ?");
        selectMark = session.prepare("SELECT writers, count FROM " + ks + ".telemetry_rollup_1m WHERE tenant_id = ? AND "
                + "device_id = ? AND day = ? AND key = ? AND bucket = ?");
        insertLatest = session.prepare("INSERT INTO " + ks + ".telemetry_latest (tenant_id, device_id, key, ts, num, str, "
                + "bool, json, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?");
        String raw = "SELECT key, ts, num, str, bool, json, received_at FROM " + ks + ".telemetry_raw "
                + "WHERE tenant_id = ? AND device_id = ? AND day = ? AND key = ? AND ts >= ? AND ts < ? ";
        selectRawDesc = session.prepare(raw + "ORDER BY ts DESC LIMIT ?");
        selectRawAsc = session.prepare(raw + "ORDER BY ts ASC LIMIT ?");
        selectMinuteSource = session.prepare("SELECT ts, num FROM " + ks + ".telemetry_raw WHERE tenant_id = ? AND "
                + "device_id = ? AND day = ? AND key = ? AND ts >= ? AND ts < ?");
        selectMinutes = session.prepare("SELECT " + ROLLUP_COLS + " FROM " + ks + ".telemetry_rollup_1m WHERE "
                + "tenant_id = ? AND device_id = ? AND day = ? AND key = ? AND bucket >= ? AND bucket < ? ORDER BY bucket ASC");
        selectHours = session.prepare("SELECT " + ROLLUP_COLS + " FROM " + ks + ".telemetry_rollup_1h WHERE "
                + "tenant_id = ? AND device_id = ? AND month = ? AND key = ? AND bucket >= ? AND bucket < ? ORDER BY bucket ASC");
        String set = " USING TTL ? AND TIMESTAMP ? SET count = ?, min = ?, max = ?, sum = ?, first = ?, first_ts = ?, "
                + "last = ?, last_ts = ? WHERE tenant_id = ? AND device_id = ? AND ";
        writeMinute = session.prepare("UPDATE " + ks + ".telemetry_rollup_1m" + set + "day = ? AND key = ? AND bucket = ?");
        writeHour = session.prepare("UPDATE " + ks + ".telemetry_rollup_1h" + set + "month = ? AND key = ? AND bucket = ?");
        String clear = " USING TTL ? AND TIMESTAMP ? SET pending_at = 0 WHERE tenant_id = ? AND device_id = ? AND ";
        clearMinute = session.prepare("UPDATE " + ks + ".telemetry_rollup_1m" + clear + "day = ? AND key = ? AND bucket = ?");
        clearHour = session.prepare("UPDATE " + ks + ".telemetry_rollup_1h" + clear + "month = ? AND key = ? AND bucket = ?");
        selectLatest = session.prepare("SELECT key, ts, num, str, bool, json, received_at FROM " + ks
                + ".telemetry_latest WHERE tenant_id = ? AND device_id = ?");
        selectKeys = session.prepare("SELECT key FROM " + ks + ".telemetry_latest WHERE tenant_id = ? AND device_id = ?");
        selectNewestRaw = session.prepare("SELECT key, ts, num, str, bool, json, received_at FROM " + ks
                + ".telemetry_raw WHERE tenant_id = ? AND device_id = ? AND day = ? GROUP BY key");
        pendingMinutes = session.prepare("SELECT tenant_id, device_id, key, bucket FROM " + ks
                + ".telemetry_rollup_1m WHERE pending_at > 0 AND pending_at < ? LIMIT ?");
        pendingHours = session.prepare("SELECT tenant_id, device_id, key, bucket FROM " + ks
                + ".telemetry_rollup_1h WHERE pending_at > 0 AND pending_at < ? LIMIT ?");
    }

    /**
     * TTL in seconds for data of time {@code ts} kept {@code days}, counted from ts; at least 1 s (data
     * that arrives after its retention lives one second: accepted, never served for long).
     */
    private int ttl(int days, Instant ts, long nowMs) {
        long left = days * 86_400L - Math.max(0, (nowMs - ts.toEpochMilli()) / 1000);
        return (int) Math.max(1, left);
    }

    // ------------------------------------------------------------------------------------------ writes

    @Override
    public CompletionStage<Void> write(List<TelemetrySample> samples, Collection<RollupWindow> newWindows) {
        return write(samples, List.of(), newWindows, null);
    }

    @Override
    public CompletionStage<Void> write(List<TelemetrySample> samples, Collection<RollupWindow> folded,
            Collection<RollupWindow> unfolded, String writer) {
        Map<String, CompletableFuture<Retention>> byTenant = new HashMap<>();
        for (TelemetrySample s : samples) {
            byTenant.computeIfAbsent(s.tenantId(), t -> retention.of(t).toCompletableFuture());
        }
        return CompletableFuture.allOf(byTenant.values().toArray(CompletableFuture[]::new))
                .thenCompose(x -> writeResolved(samples, folded, unfolded, writer, t -> byTenant.get(t).join()));
    }

    /** A mark's writer when no fold saw the write's samples (V008): {@link #fold} then always recomputes. */
    private static final Set<String> UNFOLDED = Set.of("-");

    private CompletionStage<Void> writeResolved(List<TelemetrySample> samples, Collection<RollupWindow> folded,
            Collection<RollupWindow> unfolded, String writer, java.util.function.Function<String, Retention> retentionOf) {
        long now = clock.millis();
        Map<String, List<BatchableStatement<?>>> byPartition = new LinkedHashMap<>();
        Map<String, Map<String, TelemetrySample>> latestByDevice = new LinkedHashMap<>();
        for (TelemetrySample s : samples) {
            Retention r = retentionOf.apply(s.tenantId());
            byPartition.computeIfAbsent(s.tenantId() + '\u0000' + s.deviceId() + '\u0000' + dayOf(s.ts()),
                    k -> new ArrayList<>()).add(bindRaw(s, ttl(r.rawDays(), s.ts(), now)));
            latestByDevice.computeIfAbsent(s.tenantId() + '\u0000' + s.deviceId(), k -> new LinkedHashMap<>())
                    .merge(s.key(), s, (a, b) -> b.ts().isAfter(a.ts()) ? b : a);
        }
        Set<String> mine = writer == null ? UNFOLDED : Set.of(writer);
        for (int i = 0; i < 2; i++) {
            Set<String> by = i == 0 ? mine : UNFOLDED;
            for (RollupWindow w : i == 0 ? folded : unfolded) {
                Retention r = retentionOf.apply(w.tenantId());
                byPartition.computeIfAbsent(w.tenantId() + '\u0000' + w.deviceId() + '\u0000' + dayOf(w.bucket()),
                        k -> new ArrayList<>()).add(markMinute.bind(ttl(r.rollup1mDays(), w.bucket(), now), now, by,
                        w.tenantId(), w.deviceId(), dayOf(w.bucket()), w.key(), w.bucket()));
            }
        }
        List<List<BatchableStatement<?>>> partitions = new ArrayList<>(byPartition.values());
        List<TelemetrySample> checkpointed = new ArrayList<>();
        for (Map<String, TelemetrySample> latest : latestByDevice.values()) {
            List<BatchableStatement<?>> stmts = new ArrayList<>();
            for (TelemetrySample s : latest.values()) {
                if (checkpointNow(s, now)) {
                    stmts.add(bindLatest(s));
                    checkpointed.add(s);
                }
            }
            if (!stmts.isEmpty()) {
                partitions.add(stmts);
            }
        }
        List<CompletableFuture<AsyncResultSet>> writes = new ArrayList<>();
        executeByReplicas(partitions, writes);
        return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new))
                .thenRun(() -> checkpointed.forEach(s -> checkpointed(s, now))); // only once durable
    }

    /**
     * Whether a key's newest sample of a batch goes to its telemetry_latest row now. The row is a checkpoint:
     * {@link #latest} reads the raw partitions of the last {@link #latestScanMillis} on top of it, so the row needs
     * rewriting only for what that scan cannot see. Now: the key's first sample here, a sample older than the scan
     * reaches (a backfill) that is newer than the checkpoint, or once the checkpoint is a refresh span old. Else the
     * sample waits in {@link #unflushed} for {@link #flushLatest}, which writes it within a refresh span — so a
     * sample missing from its row is always younger than the scan's reach.
     */
    private boolean checkpointNow(TelemetrySample s, long now) {
        String id = latestId(s);
        Checkpoint cp = checkpoints.get(id).orElse(null);
        long ts = s.ts().toEpochMilli();
        if (cp != null && ts <= cp.ts()) {
            return false; // not newer than what the row holds
        }
        if (cp == null || now - cp.writtenAt() >= latestRefreshMs || ts < now - latestRefreshMs
                || unflushed.size() >= maxTrackedLatest) {
            return true;
        }
        unflushed.merge(id, s, (a, b) -> b.ts().isAfter(a.ts()) ? b : a);
        return false;
    }

    private void checkpointed(TelemetrySample s, long now) {
        String id = latestId(s);
        long ts = s.ts().toEpochMilli();
        Checkpoint cp = checkpoints.get(id).orElse(null);
        checkpoints.put(id, new Checkpoint(now, cp == null ? ts : Math.max(ts, cp.ts())));
        unflushed.computeIfPresent(id, (k, u) -> u.ts().toEpochMilli() <= ts ? null : u);
    }

    private static String latestId(TelemetrySample s) {
        return s.tenantId() + '\u0000' + s.deviceId() + '\u0000' + s.key();
    }

    private BoundStatement bindLatest(TelemetrySample s) {
        return insertLatest.bind(s.tenantId(), s.deviceId(), s.key(), s.ts(), s.number(), s.text(), s.bool(), s.json(),
                s.receivedAt(), micros(s.ts()));
    }

    /**
     * Writes the waiting checkpoints whose row is a refresh span old (all of them with {@code all}, e.g. at
     * shutdown); returns how many. The hub calls it every {@code drover.telemetry.latest-flush-interval}.
     */
    @Override
    public CompletionStage<Integer> flushLatest(boolean all) {
        long now = clock.millis();
        List<TelemetrySample> due = new ArrayList<>();
        for (Map.Entry<String, TelemetrySample> e : unflushed.entrySet()) {
            Checkpoint cp = checkpoints.get(e.getKey()).orElse(null);
            if (all || cp == null || now - cp.writtenAt() >= latestRefreshMs) {
                due.add(e.getValue());
            }
        }
        List<CompletableFuture<AsyncResultSet>> writes = new ArrayList<>();
        for (TelemetrySample s : due) {
            writes.add(session.executeAsync(bindLatest(s)).toCompletableFuture());
        }
        return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).thenApply(x -> {
            due.forEach(s -> checkpointed(s, now));
            return due.size();
        });
    }

    /** Counts (and logs) the warnings Cassandra sent with a batch answer: our limits are meant to avoid them. */
    private AsyncResultSet warned(AsyncResultSet rs) {
        List<String> warnings = rs.getExecutionInfo().getWarnings();
        if (!warnings.isEmpty() && batchWarnings.getAndIncrement() % 1000 == 0) {
            log.warn("Cassandra warned of a telemetry batch (every 1,000th is logged): {}", warnings);
        }
        return rs;
    }

    /** Batch answers that came with a Cassandra warning (e.g. over batch_size_warn_threshold) since start. */
    public long batchWarnings() {
        return batchWarnings.get();
    }

    /** Cassandra requests {@link #latest} has made on this node (for tests of its cost). */
    public long latestQueries() {
        return latestQueries.get();
    }

    /**
     * How far back {@link #latest} reads raw partitions on top of the checkpoints: three refresh spans (a waiting
     * sample is at most one span older than its write, and is flushed within a span plus the flush interval, which
     * is at most a span).
     */
    private long latestScanMillis() {
        return 3 * latestRefreshMs;
    }

    /**
     * A raw row binds only the value column it has: the others stay unset (a bound null would write a
     * tombstone cell, to be compacted and skipped over on every read).
     */
    private BoundStatement bindRaw(TelemetrySample s, int ttl) {
        // By position, with the codecs named: the hot path of every raw row (by name, each value cost a variable
        // lookup and a codec-registry lookup; both showed in the node's profile). Positions = insertRaw's markers.
        BoundStatementBuilder b = insertRaw.boundStatementBuilder();
        ProtocolVersion v = b.protocolVersion();
        b = b.setBytesUnsafe(0, TypeCodecs.TEXT.encode(s.tenantId(), v))
                .setBytesUnsafe(1, TypeCodecs.TEXT.encode(s.deviceId(), v))
                .setBytesUnsafe(2, TypeCodecs.INT.encodePrimitive(dayOf(s.ts()), v))
                .setBytesUnsafe(3, TypeCodecs.TEXT.encode(s.key(), v))
                .setBytesUnsafe(4, TypeCodecs.TIMESTAMP.encode(s.ts(), v))
                .setBytesUnsafe(9, TypeCodecs.TIMESTAMP.encode(s.receivedAt(), v))
                .setBytesUnsafe(10, TypeCodecs.INT.encodePrimitive(ttl, v));
        if (s.number() != null) {
            b = b.setBytesUnsafe(5, TypeCodecs.DOUBLE.encodePrimitive(s.number(), v));
        } else if (s.text() != null) {
            b = b.setBytesUnsafe(6, TypeCodecs.TEXT.encode(s.text(), v));
        } else if (s.bool() != null) {
            b = b.setBytesUnsafe(7, TypeCodecs.BOOLEAN.encodePrimitive(s.bool(), v));
        } else {
            b = b.setBytesUnsafe(8, TypeCodecs.TEXT.encode(s.json(), v));
        }
        return b.build();
    }

    /**
     * Sends whole partitions (each a list of statements with one partition key) in unlogged batches of
     * partitions with the same replicas. A partition is never split over two batches unless it alone is over
     * the limits of such a batch (then it goes in single-partition chunks of {@link #MAX_BATCH} rows).
     */
    private void executeByReplicas(List<List<BatchableStatement<?>>> partitions,
            List<CompletableFuture<AsyncResultSet>> out) {
        record Sized(List<BatchableStatement<?>> statements, int bytes) {}
        Optional<com.datastax.oss.driver.api.core.metadata.TokenMap> tokens = session.getMetadata().getTokenMap();
        Map<Object, List<Sized>> byReplicas = new LinkedHashMap<>();
        for (List<BatchableStatement<?>> partition : partitions) {
            int bytes = partition.stream().mapToInt(CassandraTelemetryStore::estimatedSize).sum();
            java.nio.ByteBuffer routingKey = partition.get(0).getRoutingKey();
            if (partition.size() > MAX_ROWS || bytes > MAX_BATCH_BYTES || tokens.isEmpty() || routingKey == null) {
                executeChunked(partition, out);
                continue;
            }
            byReplicas.computeIfAbsent(tokens.get().getReplicas(keyspace, routingKey), k -> new ArrayList<>())
                    .add(new Sized(partition, bytes));
        }
        for (List<Sized> group : byReplicas.values()) {
            List<BatchableStatement<?>> batch = new ArrayList<>();
            int partitionsInBatch = 0;
            int batchBytes = 0;
            for (Sized partition : group) {
                if (partitionsInBatch == MAX_PARTITIONS || batch.size() + partition.statements().size() > MAX_ROWS
                        || batchBytes + partition.bytes() > MAX_BATCH_BYTES) {
                    executeChunked(batch, out);
                    batch = new ArrayList<>();
                    partitionsInBatch = 0;
                    batchBytes = 0;
                }
                batch.addAll(partition.statements());
                partitionsInBatch++;
                batchBytes += partition.bytes();
            }
            executeChunked(batch, out);
        }
    }

    /**
     * An upper estimate of what Cassandra counts for a row in a batch against {@code batch_size_warn_threshold}
     * (its {@code PartitionUpdate.dataSize()}: clustering values, the row's liveness info and each cell's value plus
     * its timestamp, TTL and deletion time; the partition key is not counted): 32 for the row, plus each bound value
     * other than the partition key's, with 20 for its cell's fields. Unset values make no cell and count nothing.
     * Every cell of our statements is a bound value, so this is never below Cassandra's figure; it is ~1.7 times
     * it for a raw row (TelemetryStoreTest checks that Cassandra sends no batch warning).
     */
    static int estimatedSize(BatchableStatement<?> statement) {
        int size = 32;
        if (statement instanceof BoundStatement b) {
            List<Integer> partitionKey = b.getPreparedStatement().getPartitionKeyIndices();
            for (int i = 0; i < b.size(); i++) {
                if (!b.isSet(i) || partitionKey.contains(i)) {
                    continue;
                }
                java.nio.ByteBuffer v = b.getBytesUnsafe(i);
                size += 20 + (v == null ? 0 : v.remaining());
            }
        }
        return size;
    }

    private void executeChunked(List<BatchableStatement<?>> stmts, List<CompletableFuture<AsyncResultSet>> out) {
        for (int i = 0; i < stmts.size(); i += MAX_BATCH) {
            List<BatchableStatement<?>> chunk = stmts.subList(i, Math.min(stmts.size(), i + MAX_BATCH));
            if (chunk.size() == 1) {
                out.add(session.executeAsync((BoundStatement) chunk.get(0)).toCompletableFuture());
            } else {
                BatchStatementBuilder b = BatchStatement.builder(BatchType.UNLOGGED);
                chunk.forEach(b::addStatement);
                out.add(session.executeAsync(b.build()).toCompletableFuture().thenApply(this::warned));
            }
        }
    }

    private static long micros(Instant ts) {
        return ts.getEpochSecond() * 1_000_000L + ts.getNano() / 1000;
    }

    // ------------------------------------------------------------------------------------------ raw reads

    /** Where the next page starts: after {@code ts} in the series of {@code key}. */
    private record Cursor(String key, Instant ts) {
        String encode() {
            return Base64.getUrlEncoder().withoutPadding()
                    .encodeToString((ts.toEpochMilli() + ":" + key).getBytes(StandardCharsets.UTF_8));
        }

        static Cursor decode(String s, List<String> keys) {
            try {
                String d = new String(Base64.getUrlDecoder().decode(s), StandardCharsets.UTF_8);
                int i = d.indexOf(':');
                Cursor c = new Cursor(d.substring(i + 1), Instant.ofEpochMilli(Long.parseLong(d.substring(0, i))));
                if (!keys.contains(c.key)) {
                    throw new IllegalArgumentException("invalid cursor");
                }
                return c;
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("invalid cursor");
            }
        }
    }

    @Override
    public CompletionStage<RawPage> readRaw(RawQuery q) {
        Optional<Cursor> cursor;
        try {
            cursor = q.cursor().map(c -> Cursor.decode(c, q.keys()));
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        Map<String, List<TelemetrySample>> series = new LinkedHashMap<>();
        int firstKey = cursor.map(c -> q.keys().indexOf(c.key())).orElse(0);
        // Collect one more than the limit: when it arrives there is a next page, and the cursor is exact.
        return readKeys(q, firstKey, cursor, series, 0).thenApply(n -> {
            if (n <= q.limit()) {
                return new RawPage(series, Optional.empty());
            }
            String lastKey = null;
            for (var e : series.entrySet()) {
                if (!e.getValue().isEmpty()) {
                    lastKey = e.getKey();
                }
            }
            List<TelemetrySample> tail = series.get(lastKey);
            tail.remove(tail.size() - 1);
            if (tail.isEmpty()) {
                series.remove(lastKey);
            }
            TelemetrySample last = null;
            for (var l : series.values()) {
                if (!l.isEmpty()) {
                    last = l.get(l.size() - 1);
                }
            }
            return new RawPage(series, Optional.of(new Cursor(last.key(), last.ts()).encode()));
        });
    }

    private CompletionStage<Integer> readKeys(RawQuery q, int keyIndex, Optional<Cursor> cursor,
            Map<String, List<TelemetrySample>> series, int collected) {
        if (keyIndex >= q.keys().size() || collected > q.limit()) {
            return CompletableFuture.completedFuture(collected);
        }
        String key = q.keys().get(keyIndex);
        Instant from = q.from();
        Instant to = q.to();
        if (cursor.isPresent() && cursor.get().key().equals(key)) {
            if (q.ascending()) {
                from = cursor.get().ts().plusMillis(1);
            } else {
                to = cursor.get().ts();
            }
        }
        if (!from.isBefore(to)) {
            return readKeys(q, keyIndex + 1, cursor, series, collected);
        }
        int startDay = q.ascending() ? dayOf(from) : dayOf(to.minusMillis(1));
        int endDay = q.ascending() ? dayOf(to.minusMillis(1)) : dayOf(from);
        Instant f = from;
        Instant t = to;
        return readDays(q, key, f, t, startDay, endDay, series, collected)
                .thenCompose(n -> readKeys(q, keyIndex + 1, cursor, series, n));
    }

    private CompletionStage<Integer> readDays(RawQuery q, String key, Instant from, Instant to, int day, int endDay,
            Map<String, List<TelemetrySample>> series, int collected) {
        boolean done = q.ascending() ? day > endDay : day < endDay;
        if (done || collected > q.limit()) {
            return CompletableFuture.completedFuture(collected);
        }
        PreparedStatement ps = q.ascending() ? selectRawAsc : selectRawDesc;
        int want = q.limit() + 1 - collected;
        return session.executeAsync(ps.bind(q.tenantId(), q.deviceId(), day, key, from, to, want))
                .thenCompose(rs -> allRows(rs, new ArrayList<>())) // a page of the driver holds 5,000 rows at most
                .thenCompose(rows -> {
            int n = collected;
            for (Row r : rows) {
                series.computeIfAbsent(key, k -> new ArrayList<>()).add(sample(q.tenantId(), q.deviceId(), r));
                n++;
            }
            return readDays(q, key, from, to, q.ascending() ? day + 1 : day - 1, endDay, series, n);
        });
    }

    private static TelemetrySample sample(String tenantId, String deviceId, Row r) {
        return new TelemetrySample(tenantId, deviceId, r.getString("key"), r.getInstant("ts"),
                r.isNull("num") ? null : r.getDouble("num"), r.getString("str"),
                r.isNull("bool") ? null : r.getBoolean("bool"), r.getString("json"), r.getInstant("received_at"));
    }

    // ------------------------------------------------------------------------------------------ rollups

    @Override
    public CompletionStage<List<Rollup>> readRollups(String tenantId, String deviceId, String key, Resolution res,
            Instant from, Instant to) {
        List<Integer> partitions = new ArrayList<>();
        if (from.isBefore(to)) {
            Instant last = to.minusMillis(1);
            if (res == Resolution.MINUTE) {
                for (int d = dayOf(from); d <= dayOf(last); d++) {
                    partitions.add(d);
                }
            } else {
                for (int m = monthOf(from); m <= monthOf(last); m++) {
                    partitions.add(m);
                }
            }
        }
        List<CompletableFuture<List<Rollup>>> reads = new ArrayList<>();
        PreparedStatement ps = res == Resolution.MINUTE ? selectMinutes : selectHours;
        for (int p : partitions) {
            reads.add(session.executeAsync(ps.bind(tenantId, deviceId, p, key, from, to))
                    .thenCompose(rs -> allRows(rs, new ArrayList<>()))
                    .thenApply(rows -> {
                        List<Rollup> out = new ArrayList<>();
                        for (Row r : rows) {
                            if (!r.isNull("count") && r.getLong("count") > 0) {
                                out.add(rollup(r));
                            }
                        }
                        return out;
                    }).toCompletableFuture());
        }
        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(x -> {
            List<Rollup> out = new ArrayList<>();
            reads.forEach(r -> out.addAll(r.join()));
            return out;
        });
    }

    private static CompletionStage<List<Row>> allRows(AsyncResultSet rs, List<Row> acc) {
        rs.currentPage().forEach(acc::add);
        return rs.hasMorePages() ? rs.fetchNextPage().thenCompose(n -> allRows(n, acc))
                : CompletableFuture.completedFuture(acc);
    }

    private static Rollup rollup(Row r) {
        return new Rollup(r.getInstant("bucket"), r.getLong("count"), r.getDouble("min"), r.getDouble("max"),
                r.getDouble("sum"), r.getDouble("first"), r.getInstant("first_ts"), r.getDouble("last"),
                r.getInstant("last_ts"));
    }

    @Override
    public CompletionStage<Optional<RollupWindow>> recompute(RollupWindow w) {
        long readStart = clock.millis() * 1000; // microseconds, the unit of write timestamps
        return retention.of(w.tenantId()).thenCompose(r -> w.resolution() == Resolution.MINUTE
                ? recomputeMinute(w, r, readStart) : recomputeHour(w, r, readStart).thenApply(x -> Optional.empty()));
    }

    /** From the raw rows; marks the hour pending (before clearing the minute) and completes with it. */
    private CompletionStage<Optional<RollupWindow>> recomputeMinute(RollupWindow w, Retention r, long readStart) {
        int day = dayOf(w.bucket());
        return session.executeAsync(selectMinuteSource.bind(w.tenantId(), w.deviceId(), day, w.key(), w.bucket(), w.end()))
                .thenCompose(rs -> allRows(rs, new ArrayList<>()))
                .thenCompose(rows -> {
                    Rollup agg = null;
                    for (Row row : rows) {
                        if (!row.isNull("num")) {
                            agg = Rollup.merge(agg, Rollup.single(w.bucket(), row.getInstant("ts"), row.getDouble("num")));
                        }
                    }
                    return storeMinute(w, r, agg, readStart, readStart);
                });
    }

    /**
     * A minute's aggregates written at {@code writeTs}, its hour marked pending first (when there is an aggregate),
     * the minute's mark cleared at {@code readStart} − margin; completes with the hour marked.
     */
    private CompletionStage<Optional<RollupWindow>> storeMinute(RollupWindow w, Retention r, Rollup result, long writeTs,
            long readStart) {
        long now = readStart / 1000;
        RollupWindow hour = w.hour();
        CompletionStage<?> markedHour = result == null ? CompletableFuture.completedFuture(null)
                : session.executeAsync(markHour.bind(ttl(r.rollup1hDays(), hour.bucket(), now), now,
                        w.tenantId(), w.deviceId(), monthOf(hour.bucket()), w.key(), hour.bucket()));
        return markedHour.thenCompose(x -> writeRecomputed(writeMinute, clearMinute, result, w, dayOf(w.bucket()),
                        ttl(r.rollup1mDays(), w.bucket(), now), writeTs, readStart))
                .thenApply(x -> result == null ? Optional.<RollupWindow>empty() : Optional.of(hour));
    }

    /**
     * Reads the minute's mark row: {@code agg} is written only if {@code writer} is the window's only writer and no
     * aggregate is stored, {@code USING TIMESTAMP} = the window's end, so a recomputation (always later) wins over
     * it; otherwise the window is recomputed. One single-row read instead of reading every raw row back.
     */
    @Override
    public CompletionStage<Folded> fold(RollupWindow w, Rollup agg, String writer) {
        long readStart = clock.millis() * 1000;
        return retention.of(w.tenantId()).thenCompose(r -> session.executeAsync(selectMark.bind(w.tenantId(),
                        w.deviceId(), dayOf(w.bucket()), w.key(), w.bucket()))
                .thenCompose(rs -> {
                    Row row = rs.one();
                    boolean alone = row != null && row.isNull("count")
                            && row.getSet("writers", String.class).equals(Set.of(writer));
                    if (!alone) {
                        return recomputeMinute(w, r, readStart).thenApply(h -> new Folded(h, false));
                    }
                    return storeMinute(w, r, agg.withBucket(w.bucket()), micros(w.end()), readStart)
                            .thenApply(h -> new Folded(h, true));
                }));
    }

    /** From the hour's 1 m rows. */
    private CompletionStage<AsyncResultSet> recomputeHour(RollupWindow w, Retention r, long readStart) {
        int ttl = ttl(r.rollup1hDays(), w.bucket(), readStart / 1000);
        return session.executeAsync(selectMinutes.bind(w.tenantId(), w.deviceId(), dayOf(w.bucket()), w.key(), w.bucket(),
                        w.end()))
                .thenCompose(rs -> allRows(rs, new ArrayList<>()))
                .thenCompose(rows -> {
                    Rollup agg = null;
                    for (Row row : rows) {
                        if (!row.isNull("count") && row.getLong("count") > 0) {
                            agg = Rollup.merge(agg, rollup(row));
                        }
                    }
                    return writeRecomputed(writeHour, clearHour, agg == null ? null : agg.withBucket(w.bucket()), w,
                            monthOf(w.bucket()), ttl, readStart, readStart);
                });
    }

    /**
     * The aggregates at the read's start time (a later read wins whatever the arrival order) and the pending
     * mark cleared at that time minus the margin (a mark from a write still in flight during the read survives).
     */
    private CompletionStage<AsyncResultSet> writeRecomputed(PreparedStatement write, PreparedStatement clear, Rollup agg,
            RollupWindow w, int partition, int ttl, long writeTs, long readStart) {
        BatchStatementBuilder b = BatchStatement.builder(BatchType.UNLOGGED);
        if (agg != null) {
            b.addStatement(write.bind(ttl, writeTs, agg.count(), agg.min(), agg.max(), agg.sum(), agg.first(),
                    agg.firstTs(), agg.last(), agg.lastTs(), w.tenantId(), w.deviceId(), partition, w.key(), w.bucket()));
        }
        b.addStatement(clear.bind(ttl, readStart - markMarginMicros, w.tenantId(), w.deviceId(), partition, w.key(),
                w.bucket()));
        return session.executeAsync(b.build());
    }

    @Override
    public CompletionStage<List<RollupWindow>> pending(Resolution res, Instant markedBefore, int limit) {
        PreparedStatement ps = res == Resolution.MINUTE ? pendingMinutes : pendingHours;
        return session.executeAsync(ps.bind(markedBefore.toEpochMilli(), limit))
                .thenCompose(rs -> allRows(rs, new ArrayList<>()))
                .thenApply(rows -> rows.stream().map(r -> new RollupWindow(r.getString("tenant_id"), r.getString("device_id"),
                        r.getString("key"), res, r.getInstant("bucket"))).toList());
    }

    // ------------------------------------------------------------------------------------------ latest

    @Override
    public CompletionStage<List<String>> keys(String tenantId, String deviceId) {
        // clustering order is key ASC: the rows come sorted
        return session.executeAsync(selectKeys.bind(tenantId, deviceId)).thenCompose(rs -> allRows(rs, new ArrayList<>()))
                .thenApply(rows -> rows.stream().map(r -> r.getString("key")).toList());
    }

    /**
     * The newest value per key. telemetry_latest rows are checkpoints (see {@link #checkpointNow}); anything newer
     * is in the raw day partitions of the last three refresh spans (+ the allowed clock skew), read newest row per key:
     * one read of the checkpoints and two or three partitions, whatever the history.
     */
    @Override
    public CompletionStage<Map<String, TelemetrySample>> latest(String tenantId, String deviceId, Set<String> keys) {
        long now = clock.millis();
        latestQueries.incrementAndGet();
        return session.executeAsync(selectLatest.bind(tenantId, deviceId)).thenCompose(rs -> allRows(rs, new ArrayList<>()))
                .thenCompose(rows -> {
                    Map<String, TelemetrySample> out = new java.util.TreeMap<>();
                    for (Row r : rows) {
                        if (keys.isEmpty() || keys.contains(r.getString("key"))) {
                            out.put(r.getString("key"), sample(tenantId, deviceId, r));
                        }
                    }
                    if (out.isEmpty()) {
                        return CompletableFuture.completedFuture(out);
                    }
                    // a constant number of day partitions, whatever the history: what no checkpoint holds yet is
                    // younger than the scan's reach (see checkpointNow)
                    List<CompletableFuture<List<Row>>> reads = new ArrayList<>();
                    int to = dayOf(Instant.ofEpochMilli(now + 3_600_000));
                    for (int day = dayOf(Instant.ofEpochMilli(now - latestScanMillis())); day <= to; day++) {
                        latestQueries.incrementAndGet();
                        reads.add(session.executeAsync(selectNewestRaw.bind(tenantId, deviceId, day))
                                .thenCompose(r -> allRows(r, new ArrayList<>())).toCompletableFuture());
                    }
                    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(x -> {
                        for (CompletableFuture<List<Row>> read : reads) {
                            for (Row r : read.join()) {
                                if (out.containsKey(r.getString("key"))) {
                                    out.merge(r.getString("key"), sample(tenantId, deviceId, r),
                                            (p, q) -> q.ts().isAfter(p.ts()) ? q : p);
                                }
                            }
                        }
                        return out;
                    });
                });
    }
}

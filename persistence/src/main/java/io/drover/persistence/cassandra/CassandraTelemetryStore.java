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
 * {@link TelemetryStore} on the tables of V003/V004/V008/V009 (see docs/telemetry.md).
 *
 * <p>Writes: a message is one telemetry_msg row (V009, each value a cell of the map of its type); the rows of a
 * (tenant, device, day) partition go together with the pending marks of that day's new 1-minute windows (same
 * partition key, so one atomic mutation), the latest values of a device are written {@code USING TIMESTAMP} = sample
 * time so an older sample never replaces a newer one. telemetry_raw (V003, the layout before) is only read, merged
 * by time, while it holds rows ({@link #legacyReads}).
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
    /** One message's row of telemetry_msg (V009): bound by position, {@link #MSG_POSITIONS}. */
    private final PreparedStatement updateMsg;
    private static final List<String> MSG_POSITIONS = List.of("[ttl]", "nums", "strs", "bools", "jsons", "received_at",
            "tenant_id", "device_id", "day", "ts");
    /**
     * Whether reads also read telemetry_raw (V003, the layout before V009, no longer written): while it holds rows.
     * Decided once at start ({@code null} = look: one single-row read).
     */
    private final boolean legacyReads;
    private final PreparedStatement selectMsgKeyDesc;
    private final PreparedStatement selectMsgKeyAsc;
    private final PreparedStatement selectMsgMinuteSource;
    private final PreparedStatement selectNewestMsg;
    /** Rows {@link #latest} reads of one device at most, beyond its checkpoints (see {@link #checkpointNow}). */
    private final int latestScanRows;
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

    /** A key's newest sample not yet in its checkpoint, and its device's message count here when it was written. */
    private record Waiting(TelemetrySample sample, long deviceSeq) {}

    /** What this node knows of a device's latest values: its messages written here, when, and its waiting keys. */
    private static final class DeviceLatest {
        final java.util.concurrent.atomic.AtomicLong seq = new java.util.concurrent.atomic.AtomicLong();
        volatile long lastWriteMs;
        /** Ids ({@link #latestId}) of its keys with a sample in {@link #unflushed}. */
        final Set<String> waiting = java.util.concurrent.ConcurrentHashMap.newKeySet();
    }

    /**
     * (tenant, device) → {@link DeviceLatest}: a waiting sample is checkpointed once its device has written
     * latestScanRows / 2 more messages here, or has been idle here for {@link #IDLE_FLUSH_MS} (it may have moved to
     * another node). Bounded LRU; forgetting a device only delays its waiting samples to the refresh span.
     */
    private final BoundedCache<String, DeviceLatest> devices;
    static final long IDLE_FLUSH_MS = 300_000;

    /** (tenant, device, key) → this node's last checkpoint. Bounded LRU: forgetting one only means writing again. */
    private final BoundedCache<String, Checkpoint> checkpoints;
    /**
     * (tenant, device, key) → the newest sample written since that key's checkpoint and not yet in it ({@link
     * #flushLatest} writes them once the checkpoint is a refresh span old). Bounded: when full, a sample is
     * checkpointed at once instead.
     */
    private final Map<String, Waiting> unflushed = new java.util.concurrent.ConcurrentHashMap<>();
    /** Cassandra requests {@link #latest} made (what its cost is tested by). */
    private final java.util.concurrent.atomic.AtomicLong latestQueries = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong batchWarnings = new java.util.concurrent.atomic.AtomicLong();
    private final PreparedStatement pendingMinutes;
    private final PreparedStatement pendingHours;

    public CassandraTelemetryStore(CqlSession session, String ks, RetentionPolicy retention, Duration markMargin,
            Clock clock) {
        this(session, ks, retention, markMargin, Duration.ofHours(1), 1_000_000, 1_000, null, clock);
    }

    /**
     * @param latestRefresh how stale a device key's row in telemetry_latest may get: newer values are read from
     *     the raw partitions that cover this span (see {@link #latest}), so a message needs no extra write
     * @param latestScanRows rows of a device {@link #latest} reads at most on top of the checkpoints
     * @param legacyReads whether reads merge in telemetry_raw (the layout before V009); null: while it has rows
     */
    public CassandraTelemetryStore(CqlSession session, String ks, RetentionPolicy retention, Duration markMargin,
            Duration latestRefresh, int maxTrackedLatest, int latestScanRows, Boolean legacyReads, Clock clock) {
        this.session = session;
        this.latestScanRows = latestScanRows;
        this.devices = new BoundedCache<>(maxTrackedLatest, latestRefresh.multipliedBy(2));
        this.keyspace = CqlIdentifier.fromCql(ks);
        this.latestRefreshMs = latestRefresh.toMillis();
        this.maxTrackedLatest = maxTrackedLatest;
        this.checkpoints = new BoundedCache<>(maxTrackedLatest, latestRefresh.multipliedBy(2));
        this.retention = retention;
        this.clock = clock;
        this.markMarginMicros = markMargin.toNanos() / 1000;
        updateMsg = session.prepare("UPDATE " + ks + ".telemetry_msg USING TTL ? SET nums = nums + ?, strs = strs + ?, "
                + "bools = bools + ?, jsons = jsons + ?, received_at = ? WHERE tenant_id = ? AND device_id = ? AND day = ? "
                + "AND ts = ?");
        List<String> msgVars = new ArrayList<>();
        updateMsg.getVariableDefinitions().forEach(d -> msgVars.add(d.getName().asInternal()));
        if (!msgVars.equals(MSG_POSITIONS)) { // bindMsg binds by position
            throw new IllegalStateException("telemetry_msg update variables " + msgVars + ", bindMsg expects " + MSG_POSITIONS);
        }
        String msgKey = "SELECT ts, received_at, nums[?] AS num, strs[?] AS str, bools[?] AS bool, jsons[?] AS json FROM "
                + ks + ".telemetry_msg WHERE tenant_id = ? AND device_id = ? AND day = ? AND ts >= ? AND ts < ? ";
        selectMsgKeyDesc = session.prepare(msgKey + "ORDER BY ts DESC");
        selectMsgKeyAsc = session.prepare(msgKey + "ORDER BY ts ASC");
        selectMsgMinuteSource = session.prepare("SELECT ts, nums[?] AS num FROM " + ks + ".telemetry_msg WHERE tenant_id = ? "
                + "AND device_id = ? AND day = ? AND ts >= ? AND ts < ?");
        selectNewestMsg = session.prepare("SELECT ts, nums, strs, bools, jsons, received_at FROM " + ks + ".telemetry_msg "
                + "WHERE tenant_id = ? AND device_id = ? AND day = ? AND ts >= ?");
        this.legacyReads = legacyReads != null ? legacyReads : legacyRowsLeft(session, ks);
        if (this.legacyReads) {
            log.info("telemetry_raw (the raw layout before V009) still has rows: raw reads merge it in");
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
     * Whether telemetry_raw still holds a row: one single-row read at start. If that read fails (e.g. it meets too
     * many expired cells), the answer is yes: merging an empty table in costs reads, skipping a full one loses data.
     */
    private static boolean legacyRowsLeft(CqlSession session, String ks) {
        try {
            return session.execute("SELECT tenant_id FROM " + ks + ".telemetry_raw LIMIT 1").one() != null;
        } catch (RuntimeException e) {
            log.warn("Could not tell whether telemetry_raw still holds rows ({}): raw reads merge it in", e.toString());
            return true;
        }
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
        // a device's samples of one time are one telemetry_msg row (a message's values share its ts); later wins
        Map<String, Map<Instant, Map<String, TelemetrySample>>> messages = new LinkedHashMap<>();
        String inTenant = null;
        String inDevice = null;
        int inDay = 0;
        Map<Instant, Map<String, TelemetrySample>> partition = null;
        Map<String, TelemetrySample> latest = null;
        for (TelemetrySample s : samples) {
            // a message's samples come together: look its device and partition up once, not per sample
            int d = dayOf(s.ts());
            if (partition == null || d != inDay || !s.deviceId().equals(inDevice) || !s.tenantId().equals(inTenant)) {
                inTenant = s.tenantId();
                inDevice = s.deviceId();
                inDay = d;
                String id = inTenant + '\u0000' + inDevice;
                partition = messages.computeIfAbsent(id + '\u0000' + inDay, k -> new LinkedHashMap<>());
                latest = latestByDevice.computeIfAbsent(id, k -> new LinkedHashMap<>());
            }
            partition.computeIfAbsent(s.ts(), t -> new LinkedHashMap<>(8)).put(s.key(), s);
            latest.merge(s.key(), s, (a, b) -> b.ts().isAfter(a.ts()) ? b : a);
        }
        Map<String, DeviceLatest> batchDevices = new HashMap<>();
        for (Map.Entry<String, Map<Instant, Map<String, TelemetrySample>>> p : messages.entrySet()) {
            List<BatchableStatement<?>> rows = new ArrayList<>(p.getValue().size());
            TelemetrySample any = null;
            for (Map<String, TelemetrySample> message : p.getValue().values()) {
                any = message.values().iterator().next();
                rows.add(bindMsg(any, message.values(), ttl(retentionOf.apply(any.tenantId()).rawDays(), any.ts(), now)));
            }
            byPartition.put(p.getKey(), rows);
            // once per device and batch: the latest values below use the same one (the cache is a locked LRU)
            DeviceLatest d = batchDevices.computeIfAbsent(any.tenantId() + '\u0000' + any.deviceId(),
                    k -> devices.computeIfAbsent(k, x -> new DeviceLatest()));
            d.seq.addAndGet(rows.size());
            d.lastWriteMs = now;
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
        for (Map.Entry<String, Map<String, TelemetrySample>> device : latestByDevice.entrySet()) {
            List<BatchableStatement<?>> stmts = new ArrayList<>();
            DeviceLatest d = batchDevices.get(device.getKey());
            for (TelemetrySample s : device.getValue().values()) {
                if (checkpointNow(s, now, d)) {
                    stmts.add(bindLatest(s));
                    checkpointed.add(s);
                }
            }
            // waiting samples that latestScanRows / 2 messages have passed since (keys the device sends rarely):
            // latest() scans at most latestScanRows rows for them
            for (String id : d.waiting) {
                Waiting w = unflushed.get(id);
                if (w != null && d.seq.get() - w.deviceSeq() >= latestScanRows / 2) {
                    stmts.add(bindLatest(w.sample()));
                    checkpointed.add(w.sample());
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
     * {@link #latest} reads the device's newest telemetry_msg rows (of the last {@link #latestScanMillis}, at most
     * {@link #latestScanRows}) on top of it, so the row needs rewriting only for what that scan cannot see. Now: the
     * key's first sample here, a sample older than the scan reaches (a backfill) that is newer than the checkpoint, or
     * once the checkpoint is a refresh span old. Else the sample waits in {@link #unflushed} until its device has
     * written latestScanRows / 2 more messages here (the write path checks), has been idle here for {@link
     * #IDLE_FLUSH_MS}, or a refresh span has passed ({@link #flushLatest}) — so a sample missing from its row is
     * younger than the scan's reach and, unless its device wrote elsewhere meanwhile, among its newest rows.
     */
    private boolean checkpointNow(TelemetrySample s, long now, DeviceLatest d) {
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
        // a newer sample waits in the older one's place, at its device's current count: how deep it has sunk
        unflushed.merge(id, new Waiting(s, d.seq.get()), (a, b) -> b.sample().ts().isAfter(a.sample().ts()) ? b : a);
        d.waiting.add(id);
        return false;
    }

    private DeviceLatest device(TelemetrySample s) {
        return devices.get(s.tenantId() + '\u0000' + s.deviceId()).orElse(null);
    }

    private void checkpointed(TelemetrySample s, long now) {
        String id = latestId(s);
        long ts = s.ts().toEpochMilli();
        Checkpoint cp = checkpoints.get(id).orElse(null);
        checkpoints.put(id, new Checkpoint(now, cp == null ? ts : Math.max(ts, cp.ts())));
        unflushed.computeIfPresent(id, (k, u) -> u.sample().ts().toEpochMilli() <= ts ? null : u);
        DeviceLatest d = device(s);
        if (d != null && !unflushed.containsKey(id)) {
            d.waiting.remove(id);
        }
    }

    private static String latestId(TelemetrySample s) {
        return s.tenantId() + '\u0000' + s.deviceId() + '\u0000' + s.key();
    }

    private BoundStatement bindLatest(TelemetrySample s) {
        return insertLatest.bind(s.tenantId(), s.deviceId(), s.key(), s.ts(), s.number(), s.text(), s.bool(), s.json(),
                s.receivedAt(), micros(s.ts()));
    }

    /**
     * Writes the waiting checkpoints whose row is a refresh span old, or whose device has written half of {@link
     * #latestScanRows} messages here since (all of them with {@code all}, e.g. at shutdown); returns how many. The
     * hub calls it every {@code drover.telemetry.latest-flush-interval}.
     */
    @Override
    public CompletionStage<Integer> flushLatest(boolean all) {
        long now = clock.millis();
        List<TelemetrySample> due = new ArrayList<>();
        for (Map.Entry<String, Waiting> e : unflushed.entrySet()) {
            Checkpoint cp = checkpoints.get(e.getKey()).orElse(null);
            Waiting w = e.getValue();
            DeviceLatest d = device(w.sample());
            if (all || cp == null || now - cp.writtenAt() >= latestRefreshMs || d == null
                    || now - d.lastWriteMs >= IDLE_FLUSH_MS || d.seq.get() - w.deviceSeq() >= latestScanRows / 2) {
                due.add(w.sample());
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
     * One message's row: the values of one device at one time, each key a cell of the map of its type (written with
     * {@code map + ?}: cells added, none deleted, so a re-delivery is an upsert and no collection tombstone is made).
     * A map without values stays unset (a bound empty value would still be a write); maps are encoded here, by
     * position, in the protocol's format (the hot path of every message; see {@link #encodeMap}).
     */
    private BoundStatement bindMsg(TelemetrySample first, Collection<TelemetrySample> values, int ttl) {
        BoundStatementBuilder b = updateMsg.boundStatementBuilder();
        ProtocolVersion v = b.protocolVersion();
        b = b.setBytesUnsafe(0, TypeCodecs.INT.encodePrimitive(ttl, v))
                .setBytesUnsafe(5, TypeCodecs.TIMESTAMP.encode(first.receivedAt(), v))
                .setBytesUnsafe(6, TypeCodecs.TEXT.encode(first.tenantId(), v))
                .setBytesUnsafe(7, TypeCodecs.TEXT.encode(first.deviceId(), v))
                .setBytesUnsafe(8, TypeCodecs.INT.encodePrimitive(dayOf(first.ts()), v))
                .setBytesUnsafe(9, TypeCodecs.TIMESTAMP.encode(first.ts(), v));
        for (int type = 0; type < 4; type++) {
            java.nio.ByteBuffer map = encodeMap(values, type);
            if (map != null) {
                b = b.setBytesUnsafe(1 + type, map);
            }
        }
        return b.build();
    }

    /** 0 number, 1 text, 2 bool, 3 json: the map of telemetry_msg a sample's value goes to. */
    private static int typeOf(TelemetrySample s) {
        return s.number() != null ? 0 : s.text() != null ? 1 : s.bool() != null ? 2 : 3;
    }

    /**
     * The samples of one value type as a CQL map in the native protocol's format (v4+: an int count, then each key
     * and value as an int length and its bytes); null when there are none. Keys are unique (one per key per message).
     */
    static java.nio.ByteBuffer encodeMap(Collection<TelemetrySample> values, int type) {
        List<byte[]> parts = null; // key, value (text types) or key (number, bool), in order
        int size = 4;
        for (TelemetrySample s : values) {
            if (typeOf(s) != type) {
                continue;
            }
            if (parts == null) {
                parts = new ArrayList<>(8);
            }
            byte[] key = s.key().getBytes(StandardCharsets.UTF_8);
            parts.add(key);
            size += 8 + key.length;
            if (type == 0) {
                size += 8;
            } else if (type == 2) {
                size += 1;
            } else {
                byte[] text = (type == 1 ? s.text() : s.json()).getBytes(StandardCharsets.UTF_8);
                parts.add(text);
                size += text.length;
            }
        }
        if (parts == null) {
            return null;
        }
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(size).putInt(type == 0 || type == 2 ? parts.size()
                : parts.size() / 2);
        int i = 0;
        for (TelemetrySample s : values) {
            if (typeOf(s) != type) {
                continue;
            }
            byte[] key = parts.get(i++);
            out.putInt(key.length).put(key);
            if (type == 0) {
                out.putInt(8).putDouble(s.number());
            } else if (type == 2) {
                out.putInt(1).put((byte) (s.bool() ? 1 : 0));
            } else {
                byte[] text = parts.get(i++);
                out.putInt(text.length).put(text);
            }
        }
        return out.flip();
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
     * other than the partition key's, with 20 for its cell's fields, and 20 more for each entry of a map (a cell each;
     * the encoded map already holds each key and value with a 4-byte length). Unset values make no cell and count nothing.
     * Every cell of our statements is a bound value, so this is never below Cassandra's figure (TelemetryStoreTest
     * checks that Cassandra sends no batch warning).
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
                if (v != null && v.remaining() >= 4 && b.getPreparedStatement().getVariableDefinitions().get(i).getType()
                        instanceof com.datastax.oss.driver.api.core.type.MapType) {
                    size += 20 * v.getInt(v.position()); // each entry is a cell of its own
                }
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
        int want = q.limit() + 1 - collected;
        PreparedStatement ps = q.ascending() ? selectMsgKeyAsc : selectMsgKeyDesc;
        // rows without the key come back with four nulls and are skipped: pages until `want` samples or the day's end
        CompletionStage<List<TelemetrySample>> read = session.executeAsync(ps.bind(key, key, key, key, q.tenantId(),
                        q.deviceId(), day, from, to).setPageSize(Math.max(100, Math.min(5000, want))))
                .thenCompose(rs -> keySamples(rs, q.tenantId(), q.deviceId(), key, want, new ArrayList<>()));
        if (legacyReads) {
            PreparedStatement old = q.ascending() ? selectRawAsc : selectRawDesc;
            read = read.thenCombine(session.executeAsync(old.bind(q.tenantId(), q.deviceId(), day, key, from, to, want))
                    .thenCompose(rs -> allRows(rs, new ArrayList<>())), (rows, legacy) -> {
                        List<TelemetrySample> older = new ArrayList<>();
                        legacy.forEach(r -> older.add(sample(q.tenantId(), q.deviceId(), r)));
                        return mergeByTs(rows, older, q.ascending(), want);
                    });
        }
        return read.thenCompose(samples -> {
            if (!samples.isEmpty()) {
                series.computeIfAbsent(key, k -> new ArrayList<>()).addAll(samples);
            }
            return readDays(q, key, from, to, q.ascending() ? day + 1 : day - 1, endDay, series,
                    collected + samples.size());
        });
    }

    /** The samples of {@code key} in the rows of a {@link #selectMsgKeyDesc} read, at most {@code want}. */
    private static CompletionStage<List<TelemetrySample>> keySamples(AsyncResultSet rs, String tenantId, String deviceId,
            String key, int want, List<TelemetrySample> acc) {
        for (Row r : rs.currentPage()) {
            TelemetrySample s = keySample(tenantId, deviceId, key, r);
            if (s != null) {
                acc.add(s);
                if (acc.size() == want) {
                    return CompletableFuture.completedFuture(acc);
                }
            }
        }
        return rs.hasMorePages() ? rs.fetchNextPage().thenCompose(n -> keySamples(n, tenantId, deviceId, key, want, acc))
                : CompletableFuture.completedFuture(acc);
    }

    /** One key's value of a message row (columns num, str, bool, json); null if the message has no such key. */
    private static TelemetrySample keySample(String tenantId, String deviceId, String key, Row r) {
        Double num = r.isNull("num") ? null : r.getDouble("num");
        String str = num != null ? null : r.getString("str");
        Boolean bool = num != null || str != null || r.isNull("bool") ? null : r.getBoolean("bool");
        String json = num != null || str != null || bool != null ? null : r.getString("json");
        if (num == null && str == null && bool == null && json == null) {
            return null;
        }
        return new TelemetrySample(tenantId, deviceId, key, r.getInstant("ts"), num, str, bool, json,
                r.getInstant("received_at"));
    }

    /**
     * Two lists of one key's samples, each in the query's order, as one in that order, at most {@code want}; of a time
     * in both, the first list's sample (telemetry_msg's, the newer layout).
     */
    static List<TelemetrySample> mergeByTs(List<TelemetrySample> a, List<TelemetrySample> b, boolean ascending,
            int want) {
        List<TelemetrySample> out = new ArrayList<>(Math.min(want, a.size() + b.size()));
        int i = 0;
        int j = 0;
        while (out.size() < want && (i < a.size() || j < b.size())) {
            if (j == b.size()) {
                out.add(a.get(i++));
            } else if (i == a.size()) {
                out.add(b.get(j++));
            } else {
                int c = a.get(i).ts().compareTo(b.get(j).ts());
                if (c == 0) {
                    out.add(a.get(i++));
                    j++;
                } else if ((c < 0) == ascending) {
                    out.add(a.get(i++));
                } else {
                    out.add(b.get(j++));
                }
            }
        }
        return out;
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
        // Hours that are open or ended less than RECENT_HOUR_MS ago: from their stored minutes (the hub stores an
        // hour once, after it has closed; see RollupTracker)
        Map<Instant, CompletableFuture<Rollup>> recent = new java.util.TreeMap<>();
        if (res == Resolution.HOUR) {
            long now = clock.millis();
            long hourMs = 3_600_000;
            long end = Math.min(to.toEpochMilli(), now + 2 * hourMs); // + the allowed clock skew of samples
            for (long b = Math.floorDiv(now - RECENT_HOUR_MS, hourMs) * hourMs; b < end; b += hourMs) {
                Instant bucket = Instant.ofEpochMilli(b);
                if (!bucket.isBefore(from)) {
                    recent.put(bucket, hourFromMinutes(tenantId, deviceId, key, bucket).toCompletableFuture());
                }
            }
        }
        List<CompletableFuture<?>> all = new ArrayList<>(reads);
        all.addAll(recent.values());
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(x -> {
            List<Rollup> out = new ArrayList<>();
            reads.forEach(r -> r.join().forEach(h -> {
                if (!recent.containsKey(h.bucket())) {
                    out.add(h);
                }
            }));
            recent.values().forEach(r -> {
                if (r.join() != null) {
                    out.add(r.join());
                }
            });
            out.sort(java.util.Comparator.comparing(Rollup::bucket));
            return out;
        });
    }

    /**
     * An hour that ended less than this ago is read from its minutes, not its stored row: the hub recomputes an hour
     * grace + margin (~21 s) after it closed; this leaves room for a busy recompute queue.
     */
    static final long RECENT_HOUR_MS = 600_000;

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
        // by time: a sample in both layouts (telemetry_raw before V009, telemetry_msg after) counts once
        java.util.TreeMap<Instant, Double> values = new java.util.TreeMap<>();
        CompletionStage<?> read = session.executeAsync(selectMsgMinuteSource.bind(w.key(), w.tenantId(), w.deviceId(), day,
                        w.bucket(), w.end()))
                .thenCompose(rs -> allRows(rs, new ArrayList<>()))
                .thenAccept(rows -> rows.forEach(row -> {
                    if (!row.isNull("num")) {
                        values.put(row.getInstant("ts"), row.getDouble("num"));
                    }
                }));
        if (legacyReads) {
            read = read.thenCompose(x -> session.executeAsync(selectMinuteSource.bind(w.tenantId(), w.deviceId(), day,
                            w.key(), w.bucket(), w.end())))
                    .thenCompose(rs -> allRows(rs, new ArrayList<>()))
                    .thenAccept(rows -> rows.forEach(row -> {
                        if (!row.isNull("num")) {
                            values.putIfAbsent(row.getInstant("ts"), row.getDouble("num"));
                        }
                    }));
        }
        return read.thenCompose(x -> {
            Rollup agg = null;
            for (Map.Entry<Instant, Double> e : values.entrySet()) {
                agg = Rollup.merge(agg, Rollup.single(w.bucket(), e.getKey(), e.getValue()));
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
        return hourFromMinutes(w.tenantId(), w.deviceId(), w.key(), w.bucket()).thenCompose(agg -> writeRecomputed(writeHour,
                clearHour, agg, w, monthOf(w.bucket()), ttl, readStart, readStart));
    }

    /** The hour starting at {@code bucket} merged from its stored 1 m rows; null without any. */
    private CompletionStage<Rollup> hourFromMinutes(String tenantId, String deviceId, String key, Instant bucket) {
        return session.executeAsync(selectMinutes.bind(tenantId, deviceId, dayOf(bucket), key, bucket,
                        bucket.plus(Duration.ofHours(1))))
                .thenCompose(rs -> allRows(rs, new ArrayList<>()))
                .thenApply(rows -> {
                    Rollup agg = null;
                    for (Row row : rows) {
                        if (!row.isNull("count") && row.getLong("count") > 0) {
                            agg = Rollup.merge(agg, rollup(row));
                        }
                    }
                    return agg == null ? null : agg.withBucket(bucket);
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
     * The newest value per key. telemetry_latest rows are checkpoints (see {@link #checkpointNow}); anything newer is
     * in the device's telemetry_msg rows of the last three refresh spans (+ the allowed clock skew) and among its newest
     * {@link #latestScanRows} rows there, read newest first until every key is found: for a device whose messages carry
     * all its keys, the checkpoints and one row, whatever the history.
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
                    // what no checkpoint holds yet is younger than the scan's reach, and within its row budget (see
                    // checkpointNow and flushLatest): newest rows first, until every key is found
                    Instant since = Instant.ofEpochMilli(now - latestScanMillis());
                    CompletionStage<Map<String, TelemetrySample>> scan = scanNewest(tenantId, deviceId, out.keySet(),
                            dayOf(Instant.ofEpochMilli(now + 3_600_000)), dayOf(since), since, latestScanRows,
                            new HashMap<>());
                    return scan.thenCompose(found -> legacyNewest(tenantId, deviceId, now).thenApply(legacy -> {
                        legacy.forEach((k, v) -> found.merge(k, v, (p, q) -> q.ts().isAfter(p.ts()) ? q : p));
                        found.forEach((k, v) -> out.merge(k, v, (p, q) -> q.ts().isAfter(p.ts()) ? q : p));
                        return out;
                    }));
                });
    }

    /**
     * The newest sample of each of {@code keys} in the device's telemetry_msg rows from day {@code day} down to
     * {@code lastDay}, newer than {@code since}; reads at most {@code budget} rows, and stops once every key is found.
     */
    private CompletionStage<Map<String, TelemetrySample>> scanNewest(String tenantId, String deviceId, Set<String> keys,
            int day, int lastDay, Instant since, int budget, Map<String, TelemetrySample> found) {
        if (day < lastDay || budget <= 0 || found.size() == keys.size()) {
            return CompletableFuture.completedFuture(found);
        }
        latestQueries.incrementAndGet();
        int[] left = {budget};
        return session.executeAsync(selectNewestMsg.bind(tenantId, deviceId, day, since).setPageSize(Math.min(budget, 100)))
                .thenCompose(rs -> newestIn(rs, tenantId, deviceId, keys, left, found))
                .thenCompose(f -> scanNewest(tenantId, deviceId, keys, day - 1, lastDay, since, left[0], f));
    }

    private CompletionStage<Map<String, TelemetrySample>> newestIn(AsyncResultSet rs, String tenantId, String deviceId,
            Set<String> keys, int[] left, Map<String, TelemetrySample> found) {
        for (Row r : rs.currentPage()) {
            left[0]--;
            Instant ts = r.getInstant("ts");
            Instant received = r.getInstant("received_at");
            // in the maps' precedence order (V009): the first type a key is found with is its value
            r.getMap("nums", String.class, Double.class).forEach((k, v) -> newest(keys, found,
                    new TelemetrySample(tenantId, deviceId, k, ts, v, null, null, null, received)));
            r.getMap("strs", String.class, String.class).forEach((k, v) -> newest(keys, found,
                    new TelemetrySample(tenantId, deviceId, k, ts, null, v, null, null, received)));
            r.getMap("bools", String.class, Boolean.class).forEach((k, v) -> newest(keys, found,
                    new TelemetrySample(tenantId, deviceId, k, ts, null, null, v, null, received)));
            r.getMap("jsons", String.class, String.class).forEach((k, v) -> newest(keys, found,
                    new TelemetrySample(tenantId, deviceId, k, ts, null, null, null, v, received)));
            if (found.size() == keys.size() || left[0] <= 0) {
                return CompletableFuture.completedFuture(found);
            }
        }
        if (rs.hasMorePages()) {
            latestQueries.incrementAndGet();
            return rs.fetchNextPage().thenCompose(n -> newestIn(n, tenantId, deviceId, keys, left, found));
        }
        return CompletableFuture.completedFuture(found);
    }

    private static void newest(Set<String> keys, Map<String, TelemetrySample> found, TelemetrySample s) {
        if (keys.contains(s.key())) {
            found.putIfAbsent(s.key(), s); // rows come newest first
        }
    }

    /**
     * With {@link #legacyReads}: the newest telemetry_raw row of each key in the day partitions the latest scan covers
     * (that layout is clustered by key, so this is one row per key and partition).
     */
    private CompletionStage<Map<String, TelemetrySample>> legacyNewest(String tenantId, String deviceId, long now) {
        Map<String, TelemetrySample> out = new HashMap<>();
        if (!legacyReads) {
            return CompletableFuture.completedFuture(out);
        }
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
                    out.merge(r.getString("key"), sample(tenantId, deviceId, r), (p, q) -> q.ts().isAfter(p.ts()) ? q : p);
                }
            }
            return out;
        });
    }
}

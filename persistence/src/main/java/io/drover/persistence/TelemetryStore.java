package io.drover.persistence;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * Telemetry storage: raw samples, stored rollups (1 min, 1 h), latest values. Every write is an
 * idempotent upsert keyed by (device, key, ts), so re-delivery never duplicates anything.
 */
public interface TelemetryStore {

    /**
     * Writes samples (with the tenant's retention as TTL) and the latest values; marks the given 1-minute
     * windows pending in the same single-partition batches as their samples. Completes when durable.
     */
    CompletionStage<Void> write(List<TelemetrySample> samples, Collection<RollupWindow> newWindows);

    /**
     * As {@link #write(List, Collection)}, for a writer that folds rollups in memory: the marks of {@code folded}
     * windows name {@code writer} as theirs, those of {@code unfolded} ones (samples no fold saw) name nobody's
     * fold, so {@link #fold} of any writer recomputes them.
     */
    default CompletionStage<Void> write(List<TelemetrySample> samples, Collection<RollupWindow> folded,
            Collection<RollupWindow> unfolded, String writer) {
        List<RollupWindow> all = new java.util.ArrayList<>(folded);
        all.addAll(unfolded);
        return write(samples, all);
    }

    /** One page of raw samples, keys in the query's order, each key's samples by time. */
    CompletionStage<RawPage> readRaw(RawQuery query);

    /** Samples of one device and key in [from, to), newest first, at most {@code limit}. */
    default CompletionStage<List<TelemetrySample>> read(String tenantId, String deviceId, String key, Instant from,
            Instant to, int limit) {
        return readRaw(new RawQuery(tenantId, deviceId, List.of(key), from, to, false, limit, Optional.empty()))
                .thenApply(page -> page.series().getOrDefault(key, List.of()));
    }

    /**
     * Rollups of one key at one resolution with bucket in [from, to), oldest first: the stored ones, and an hour that
     * is still open (or has just closed, and may not be stored yet) merged from its stored minutes.
     */
    CompletionStage<List<Rollup>> readRollups(String tenantId, String deviceId, String key,
            RollupWindow.Resolution resolution, Instant from, Instant to);

    /** Every key the device has sent, sorted (its telemetry_latest rows; no value read). */
    CompletionStage<List<String>> keys(String tenantId, String deviceId);

    /**
     * Writes the latest-value checkpoints that wait (see the Cassandra store); {@code all}: every one, not only the
     * due ones. Returns how many were written.
     */
    default CompletionStage<Integer> flushLatest(boolean all) {
        return java.util.concurrent.CompletableFuture.completedFuture(0);
    }

    /** Latest value per key of a device (all keys when {@code keys} is empty). */
    CompletionStage<Map<String, TelemetrySample>> latest(String tenantId, String deviceId, Set<String> keys);

    /**
     * Recomputes one window from its source (raw samples for a minute, minute rollups for an hour) and
     * clears its pending mark unless it was marked again meanwhile. For a minute, also marks its hour
     * pending and completes with it.
     */
    CompletionStage<Optional<RollupWindow>> recompute(RollupWindow window);

    /** What {@link #fold} did: the hour it marked pending (if any), and whether the fold was stored as it was. */
    record Folded(Optional<RollupWindow> hour, boolean folded) {}

    /**
     * Stores {@code agg}, a minute's rollup that {@code writer} folded in memory from every sample it wrote into the
     * window, if {@code writer} is the window's only writer and no aggregate of it is stored yet; otherwise
     * {@link #recompute}s the window from the raw rows. Either way the pending mark is cleared as by recompute and
     * the hour marked pending.
     */
    default CompletionStage<Folded> fold(RollupWindow minute, Rollup agg, String writer) {
        return recompute(minute).thenApply(h -> new Folded(h, false));
    }

    /** Windows marked pending before {@code markedBefore}: left by a node that stopped before recomputing. */
    CompletionStage<List<RollupWindow>> pending(RollupWindow.Resolution resolution, Instant markedBefore, int limit);

    record RawQuery(String tenantId, String deviceId, List<String> keys, Instant from, Instant to, boolean ascending,
            int limit, Optional<String> cursor) {}

    record RawPage(Map<String, List<TelemetrySample>> series, Optional<String> nextCursor) {}
}

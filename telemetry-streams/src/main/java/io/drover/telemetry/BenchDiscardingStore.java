package io.drover.telemetry;

import io.drover.persistence.Rollup;
import io.drover.persistence.RollupWindow;
import io.drover.persistence.TelemetrySample;
import io.drover.persistence.TelemetryStore;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * <b>Benchmark only, never in production</b> ({@code drover.telemetry.bench-discard-writes}, off by default): the
 * hub's store with every telemetry write acknowledged at once and thrown away, and no rollup recomputed, so a
 * benchmark can split the cost of a durable message into broker, Drover pipeline and Cassandra (docs/load-tests.md).
 * A PUBACK from a node with this switch means nothing is stored. Reads go to the real store (they find nothing new).
 */
final class BenchDiscardingStore implements TelemetryStore {

    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    private final TelemetryStore real;

    BenchDiscardingStore(TelemetryStore real) {
        this.real = real;
    }

    @Override
    public CompletionStage<Void> write(List<TelemetrySample> samples, Collection<RollupWindow> newWindows) {
        return DONE;
    }

    @Override
    public CompletionStage<Optional<RollupWindow>> recompute(RollupWindow window) {
        return CompletableFuture.completedFuture(Optional.empty());
    }

    @Override
    public CompletionStage<Integer> flushLatest(boolean all) {
        return CompletableFuture.completedFuture(0);
    }

    @Override
    public CompletionStage<List<RollupWindow>> pending(RollupWindow.Resolution resolution, Instant markedBefore, int limit) {
        return CompletableFuture.completedFuture(List.of());
    }

    @Override
    public CompletionStage<RawPage> readRaw(RawQuery query) {
        return real.readRaw(query);
    }

    @Override
    public CompletionStage<List<Rollup>> readRollups(String tenantId, String deviceId, String key,
            RollupWindow.Resolution resolution, Instant from, Instant to) {
        return real.readRollups(tenantId, deviceId, key, resolution, from, to);
    }

    @Override
    public CompletionStage<List<String>> keys(String tenantId, String deviceId) {
        return real.keys(tenantId, deviceId);
    }

    @Override
    public CompletionStage<Map<String, TelemetrySample>> latest(String tenantId, String deviceId, Set<String> keys) {
        return real.latest(tenantId, deviceId, keys);
    }
}

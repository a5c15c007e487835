package io.drover.http.testing;

import io.drover.persistence.TelemetrySample;
import io.drover.persistence.TelemetryStore;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/** Test double of {@link TelemetryStore}, keyed like the table: (tenant, device, key, ts). */
public final class InMemoryTelemetryStore implements TelemetryStore {

    private final Map<String, TelemetrySample> rows = new ConcurrentHashMap<>();

    @Override
    public CompletionStage<Void> write(List<TelemetrySample> samples) {
        samples.forEach(s -> rows.put(s.tenantId() + "|" + s.deviceId() + "|" + s.key() + "|" + s.ts(), s));
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<List<TelemetrySample>> read(String tenantId, String deviceId, String key, Instant from,
            Instant to, int limit) {
        return CompletableFuture.completedFuture(rows.values().stream()
                .filter(s -> s.tenantId().equals(tenantId) && s.deviceId().equals(deviceId) && s.key().equals(key))
                .filter(s -> !s.ts().isBefore(from) && s.ts().isBefore(to))
                .sorted(Comparator.comparing(TelemetrySample::ts).reversed()).limit(limit).toList());
    }
}

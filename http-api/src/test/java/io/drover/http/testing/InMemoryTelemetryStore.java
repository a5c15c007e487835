package io.drover.http.testing;

import io.drover.persistence.Rollup;
import io.drover.persistence.RollupWindow;
import io.drover.persistence.TelemetrySample;
import io.drover.persistence.TelemetryStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Test double of {@link TelemetryStore} for route tests, keyed like the table: (tenant, device, key, ts).
 * Rollups are computed from the raw rows on every read (the Cassandra store is tested against real Cassandra).
 */
public final class InMemoryTelemetryStore implements TelemetryStore {

    private final Map<String, TelemetrySample> rows = new ConcurrentHashMap<>();

    @Override
    public CompletionStage<Void> write(List<TelemetrySample> samples, Collection<RollupWindow> newWindows) {
        samples.forEach(s -> rows.put(s.tenantId() + "|" + s.deviceId() + "|" + s.key() + "|" + s.ts(), s));
        return CompletableFuture.completedFuture(null);
    }

    private List<TelemetrySample> series(String tenantId, String deviceId, String key, Instant from, Instant to) {
        return rows.values().stream()
                .filter(s -> s.tenantId().equals(tenantId) && s.deviceId().equals(deviceId) && s.key().equals(key))
                .filter(s -> !s.ts().isBefore(from) && s.ts().isBefore(to))
                .sorted(Comparator.comparing(TelemetrySample::ts)).toList();
    }

    @Override
    public CompletionStage<RawPage> readRaw(RawQuery q) {
        int startKey = 0;
        Instant after = null;
        if (q.cursor().isPresent()) {
            String[] c = q.cursor().get().split("@", 2);
            startKey = q.keys().indexOf(c.length == 2 ? c[1] : "");
            if (startKey < 0) {
                return CompletableFuture.failedFuture(new IllegalArgumentException("invalid cursor"));
            }
            after = Instant.ofEpochMilli(Long.parseLong(c[0]));
        }
        Map<String, List<TelemetrySample>> out = new LinkedHashMap<>();
        int n = 0;
        for (int k = startKey; k < q.keys().size(); k++) {
            List<TelemetrySample> s = new ArrayList<>(series(q.tenantId(), q.deviceId(), q.keys().get(k), q.from(), q.to()));
            if (!q.ascending()) {
                java.util.Collections.reverse(s);
            }
            for (TelemetrySample x : s) {
                if (k == startKey && after != null && (q.ascending() ? !x.ts().isAfter(after) : !x.ts().isBefore(after))) {
                    continue;
                }
                if (n == q.limit()) {
                    TelemetrySample last = null;
                    for (List<TelemetrySample> l : out.values()) {
                        last = l.get(l.size() - 1);
                    }
                    return CompletableFuture.completedFuture(new RawPage(out,
                            Optional.of(last.ts().toEpochMilli() + "@" + last.key())));
                }
                out.computeIfAbsent(x.key(), y -> new ArrayList<>()).add(x);
                n++;
            }
        }
        return CompletableFuture.completedFuture(new RawPage(out, Optional.empty()));
    }

    @Override
    public CompletionStage<List<Rollup>> readRollups(String tenantId, String deviceId, String key,
            RollupWindow.Resolution resolution, Instant from, Instant to) {
        TreeMap<Instant, List<TelemetrySample>> buckets = new TreeMap<>();
        for (TelemetrySample s : series(tenantId, deviceId, key, from, to)) {
            buckets.computeIfAbsent(resolution.bucketOf(s.ts()), b -> new ArrayList<>()).add(s);
        }
        List<Rollup> out = new ArrayList<>();
        buckets.forEach((b, l) -> {
            Rollup r = Rollup.of(b, l);
            if (r != null) {
                out.add(r);
            }
        });
        return CompletableFuture.completedFuture(out);
    }

    @Override
    public CompletionStage<List<String>> keys(String tenantId, String deviceId) {
        return CompletableFuture.completedFuture(rows.values().stream()
                .filter(s -> s.tenantId().equals(tenantId) && s.deviceId().equals(deviceId))
                .map(TelemetrySample::key).distinct().sorted().toList());
    }

    @Override
    public CompletionStage<Map<String, TelemetrySample>> latest(String tenantId, String deviceId, Set<String> keys) {
        Map<String, TelemetrySample> out = new TreeMap<>();
        rows.values().stream().filter(s -> s.tenantId().equals(tenantId) && s.deviceId().equals(deviceId))
                .filter(s -> keys.isEmpty() || keys.contains(s.key()))
                .forEach(s -> out.merge(s.key(), s, (a, b) -> b.ts().isAfter(a.ts()) ? b : a));
        return CompletableFuture.completedFuture(out);
    }

    @Override
    public CompletionStage<Optional<RollupWindow>> recompute(RollupWindow window) {
        return CompletableFuture.completedFuture(Optional.empty());
    }

    @Override
    public CompletionStage<List<RollupWindow>> pending(RollupWindow.Resolution resolution, Instant markedBefore, int limit) {
        return CompletableFuture.completedFuture(List.of());
    }
}

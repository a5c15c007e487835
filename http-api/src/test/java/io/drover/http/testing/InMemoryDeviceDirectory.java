package io.drover.http.testing;

import io.drover.persistence.DeviceDirectory;
import io.drover.persistence.DeviceListing;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentSkipListMap;

/** Test double of {@link DeviceDirectory}: one sorted map; the cursor is the last device id. */
public final class InMemoryDeviceDirectory implements DeviceDirectory {

    private final ConcurrentSkipListMap<String, DeviceListing> rows = new ConcurrentSkipListMap<>();

    @Override
    public CompletionStage<Void> upsert(DeviceListing listing) {
        rows.put(listing.tenantId() + "\u0000" + listing.deviceId(), listing);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Void> updateMetadata(String tenantId, String deviceId, String name, String type,
            List<String> labels, java.time.Instant updatedAt) {
        return change(tenantId, deviceId, d -> new DeviceListing(tenantId, deviceId, name, type,
                List.copyOf(new java.util.TreeSet<>(labels)), d.lifecycle(), d.createdAt(), updatedAt, d.online()));
    }

    @Override
    public CompletionStage<Void> updateLifecycle(String tenantId, String deviceId, String lifecycle, java.time.Instant updatedAt) {
        return change(tenantId, deviceId, d -> new DeviceListing(tenantId, deviceId, d.name(), d.type(), d.labels(),
                lifecycle, d.createdAt(), updatedAt, d.online()));
    }

    @Override
    public CompletionStage<Void> touch(String tenantId, String deviceId, java.time.Instant updatedAt) {
        return change(tenantId, deviceId, d -> new DeviceListing(tenantId, deviceId, d.name(), d.type(), d.labels(),
                d.lifecycle(), d.createdAt(), updatedAt, d.online()));
    }

    @Override
    public CompletionStage<Void> updateOnline(String tenantId, String deviceId, boolean online) {
        return change(tenantId, deviceId, d -> new DeviceListing(tenantId, deviceId, d.name(), d.type(), d.labels(),
                d.lifecycle(), d.createdAt(), d.updatedAt(), online));
    }

    @Override
    public CompletionStage<Summary> summary(String tenantId, int maxRows) {
        List<DeviceListing> mine = rows.values().stream().filter(d -> d.tenantId().equals(tenantId)).limit(maxRows)
                .toList();
        java.util.Map<String, Long> by = new java.util.TreeMap<>();
        mine.forEach(d -> by.merge(d.lifecycle(), 1L, Long::sum));
        boolean complete = rows.values().stream().filter(d -> d.tenantId().equals(tenantId)).count() <= maxRows;
        return CompletableFuture.completedFuture(new Summary(mine.size(), by,
                mine.stream().filter(DeviceListing::online).count(), complete));
    }

    /** Changes a listed row (a row that is not there stays absent, like an update of no row). */
    private CompletionStage<Void> change(String tenantId, String deviceId,
            java.util.function.UnaryOperator<DeviceListing> f) {
        rows.computeIfPresent(tenantId + "\u0000" + deviceId, (k, d) -> f.apply(d));
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Page> list(Query q) {
        if (q.cursor().isPresent() && !q.cursor().get().startsWith("c:")) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("invalid cursor"));
        }
        String after = q.tenantId() + "\u0000" + q.cursor().map(c -> c.substring(2)).orElse("");
        List<DeviceListing> matching = rows.tailMap(after, false).values().stream()
                .filter(d -> d.tenantId().equals(q.tenantId()))
                .filter(q::matches)
                .limit(q.limit() + 1L)
                .toList();
        List<DeviceListing> page = matching.subList(0, Math.min(q.limit(), matching.size()));
        Optional<String> next = matching.size() > q.limit()
                ? Optional.of("c:" + page.get(page.size() - 1).deviceId()) : Optional.empty();
        return CompletableFuture.completedFuture(new Page(List.copyOf(page), next));
    }
}

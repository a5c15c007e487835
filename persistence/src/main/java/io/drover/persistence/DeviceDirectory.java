package io.drover.persistence;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * The devices of a tenant, for listing with cursor pagination. Written only by the device-list projection
 * (from the twins' journal, in each device's event order); every write is an idempotent upsert.
 */
public interface DeviceDirectory {

    record Page(List<DeviceListing> items, Optional<String> nextCursor) {}

    /**
     * {@code search}: a case-insensitive prefix of the device id or a case-insensitive part of its name;
     * {@code lifecycle}: one state (its wire name); {@code online}: connected or not.
     */
    record Query(String tenantId, Optional<String> cursor, int limit, Optional<String> type, Optional<String> label,
            Optional<String> lifecycle, Optional<String> search, Optional<Boolean> online) {

        public Query(String tenantId, Optional<String> cursor, int limit, Optional<String> type, Optional<String> label) {
            this(tenantId, cursor, limit, type, label, Optional.empty(), Optional.empty(), Optional.empty());
        }

        /** Whether a listed device is one this query asks for (the one filter both directories apply). */
        public boolean matches(DeviceListing d) {
            return type.map(t -> t.equals(d.type())).orElse(true)
                    && label.map(l -> d.labels().contains(l)).orElse(true)
                    && lifecycle.map(l -> l.equals(d.lifecycle())).orElse(true)
                    && online.map(o -> o == d.online()).orElse(true)
                    && search.map(s -> s.toLowerCase(java.util.Locale.ROOT)).map(s ->
                            d.deviceId().toLowerCase(java.util.Locale.ROOT).startsWith(s)
                            || (d.name() != null && d.name().toLowerCase(java.util.Locale.ROOT).contains(s)))
                            .orElse(true);
        }
    }

    /**
     * Counts of a tenant's devices: all, by lifecycle state, and online. {@code complete} is false when the
     * count stopped at its row bound (then the figures are lower bounds).
     */
    record Summary(long devices, java.util.Map<String, Long> byLifecycle, long online, boolean complete) {}

    CompletionStage<Void> upsert(DeviceListing listing);

    /** Sets name, type and labels of a listed device (an upsert of those columns only). */
    CompletionStage<Void> updateMetadata(String tenantId, String deviceId, String name, String type, List<String> labels,
            java.time.Instant updatedAt);

    /** Sets the lifecycle state of a listed device (an upsert of that column only). */
    CompletionStage<Void> updateLifecycle(String tenantId, String deviceId, String lifecycle, java.time.Instant updatedAt);

    /** Sets the connectivity of a listed device (an upsert of that column only). */
    CompletionStage<Void> updateOnline(String tenantId, String deviceId, boolean online);

    /** Counts the tenant's devices, reading at most {@code maxRows} rows. */
    CompletionStage<Summary> summary(String tenantId, int maxRows);

    /** Sets only {@code updated_at} (credentials changed). */
    CompletionStage<Void> touch(String tenantId, String deviceId, java.time.Instant updatedAt);

    /** @throws IllegalArgumentException (in the stage) for a cursor this directory did not issue */
    CompletionStage<Page> list(Query query);
}

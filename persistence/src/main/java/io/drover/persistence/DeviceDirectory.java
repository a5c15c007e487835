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

    record Query(String tenantId, Optional<String> cursor, int limit, Optional<String> type, Optional<String> label) {}

    CompletionStage<Void> upsert(DeviceListing listing);

    /** Sets name, type and labels of a listed device (an upsert of those columns only). */
    CompletionStage<Void> updateMetadata(String tenantId, String deviceId, String name, String type, List<String> labels,
            java.time.Instant updatedAt);

    /** Sets the lifecycle state of a listed device (an upsert of that column only). */
    CompletionStage<Void> updateLifecycle(String tenantId, String deviceId, String lifecycle, java.time.Instant updatedAt);

    /** Sets only {@code updated_at} (credentials changed). */
    CompletionStage<Void> touch(String tenantId, String deviceId, java.time.Instant updatedAt);

    /** @throws IllegalArgumentException (in the stage) for a cursor this directory did not issue */
    CompletionStage<Page> list(Query query);
}

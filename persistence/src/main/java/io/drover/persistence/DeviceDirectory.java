package io.drover.persistence;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** The devices of a tenant, for listing with cursor pagination. Writes are idempotent upserts. */
public interface DeviceDirectory {

    record Page(List<DeviceListing> items, Optional<String> nextCursor) {}

    record Query(String tenantId, Optional<String> cursor, int limit, Optional<String> type, Optional<String> label) {}

    CompletionStage<Void> upsert(DeviceListing listing);

    /** @throws IllegalArgumentException (in the stage) for a cursor this directory did not issue */
    CompletionStage<Page> list(Query query);
}

package io.drover.persistence;

import java.time.Instant;
import java.util.List;

/** One row of the devices-by-tenant read side. */
public record DeviceListing(
        String tenantId, String deviceId, String name, String type, List<String> labels, String lifecycle,
        Instant createdAt, Instant updatedAt) {}

package io.drover.persistence;

import java.time.Instant;
import java.util.List;

/** One row of the devices-by-tenant read side; {@code online} as the twin's last connectivity event left it. */
public record DeviceListing(
        String tenantId, String deviceId, String name, String type, List<String> labels, String lifecycle,
        Instant createdAt, Instant updatedAt, boolean online) {

    /** A row without connectivity yet (a device that never connected). */
    public DeviceListing(String tenantId, String deviceId, String name, String type, List<String> labels,
            String lifecycle, Instant createdAt, Instant updatedAt) {
        this(tenantId, deviceId, name, type, labels, lifecycle, createdAt, updatedAt, false);
    }
}

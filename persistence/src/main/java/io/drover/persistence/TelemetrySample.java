package io.drover.persistence;

import java.time.Instant;

/**
 * One value of one key of one device at one time. Exactly one of {@code number}, {@code text},
 * {@code bool}, {@code json} (a JSON object or array, as compact text) is set. (tenant, device, key, ts)
 * is its identity: writing it again changes nothing.
 */
public record TelemetrySample(
        String tenantId, String deviceId, String key, Instant ts, Double number, String text, Boolean bool,
        String json, Instant receivedAt) {

    public static TelemetrySample number(String tenantId, String deviceId, String key, Instant ts, double value,
            Instant receivedAt) {
        return new TelemetrySample(tenantId, deviceId, key, ts, value, null, null, null, receivedAt);
    }

    public boolean numeric() {
        return number != null;
    }
}

package io.drover.persistence;

import java.time.Instant;

/**
 * One value of one key of one device at one time. Exactly one of {@code number}, {@code text},
 * {@code bool} is set. (tenant, device, key, ts) is its identity: writing it again changes nothing.
 */
public record TelemetrySample(
        String tenantId, String deviceId, String key, Instant ts, Double number, String text, Boolean bool,
        Instant receivedAt) {}

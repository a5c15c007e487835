package io.drover.persistence;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * One rollup row's identity: a device's key over one aligned minute or hour.
 *
 * <p>{@code equals}/{@code hashCode} are written out: the rollup tracker hashes a window per stored numeric
 * value, and the record's generated ones (invokedynamic {@code ObjectMethods}, an {@code Instant} and an enum
 * hashed through method handles) were the node's top leaf frames in the ingest profile (docs/benchmarks.md).
 */
public record RollupWindow(String tenantId, String deviceId, String key, Resolution resolution, Instant bucket) {

    public enum Resolution {
        MINUTE(60_000L), HOUR(3_600_000L);

        public final long millis;

        Resolution(long millis) {
            this.millis = millis;
        }

        /** Start of the aligned (UTC, epoch-based) window holding {@code ts}. */
        public Instant bucketOf(Instant ts) {
            return Instant.ofEpochMilli(Math.floorDiv(ts.toEpochMilli(), millis) * millis);
        }
    }

    public static RollupWindow minuteOf(TelemetrySample s) {
        return new RollupWindow(s.tenantId(), s.deviceId(), s.key(), Resolution.MINUTE, Resolution.MINUTE.bucketOf(s.ts()));
    }

    public Instant end() {
        return bucket.plusMillis(resolution.millis);
    }

    /** The hour this minute belongs to. */
    public RollupWindow hour() {
        return new RollupWindow(tenantId, deviceId, key, Resolution.HOUR, Resolution.HOUR.bucketOf(bucket));
    }

    /** Partition of the 1 h rollups: UTC months since 1970-01. Fixed once data exists. */
    public static int monthOf(Instant ts) {
        var d = ts.atOffset(ZoneOffset.UTC);
        return (d.getYear() - 1970) * 12 + d.getMonthValue() - 1;
    }

    /** Partition of raw rows and 1 m rollups: UTC days since 1970-01-01. Fixed once data exists. */
    public static int dayOf(Instant ts) {
        return (int) Math.floorDiv(ts.toEpochMilli(), 86_400_000L);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof RollupWindow)) {
            return false;
        }
        RollupWindow w = (RollupWindow) o;
        return resolution == w.resolution && Objects.equals(bucket, w.bucket) && Objects.equals(key, w.key)
                && Objects.equals(deviceId, w.deviceId) && Objects.equals(tenantId, w.tenantId);
    }

    @Override
    public int hashCode() {
        int h = Objects.hashCode(tenantId);
        h = 31 * h + Objects.hashCode(deviceId);
        h = 31 * h + Objects.hashCode(key);
        h = 31 * h + (resolution == null ? 0 : resolution.ordinal() + 1);
        h = 31 * h + (bucket == null ? 0 : Long.hashCode(bucket.toEpochMilli()) ^ bucket.getNano());
        return h;
    }
}

package io.drover.persistence;

import java.time.Instant;
import java.util.Collection;

/**
 * Aggregates of a key's numeric values over one window: count, min, max, sum, first and last (by
 * sample time; avg = sum / count). Pure; {@link #merge} is associative and commutative, so 1 h rows
 * are the merge of their 1 m rows and any interval the merge of its rows.
 */
public record Rollup(Instant bucket, long count, double min, double max, double sum, double first, Instant firstTs,
        double last, Instant lastTs) {

    /** The rollup of distinct samples (one per ts), or null when none is numeric. */
    public static Rollup of(Instant bucket, Collection<TelemetrySample> samples) {
        Rollup r = null;
        for (TelemetrySample s : samples) {
            if (s.numeric()) {
                r = merge(r, single(bucket, s.ts(), s.number()));
            }
        }
        return r;
    }

    /** One value at {@code ts}. */
    public static Rollup single(Instant bucket, Instant ts, double v) {
        return new Rollup(bucket, 1, v, v, v, v, ts, v, ts);
    }

    /** {@code a.merge(b)}, where {@code a} may be null (nothing yet). */
    public static Rollup merge(Rollup a, Rollup b) {
        return a == null ? b : a.merge(b);
    }

    public Rollup merge(Rollup o) {
        boolean oFirst = o.firstTs.isBefore(firstTs);
        boolean oLast = o.lastTs.isAfter(lastTs);
        return new Rollup(bucket.isBefore(o.bucket) ? bucket : o.bucket, count + o.count, Math.min(min, o.min),
                Math.max(max, o.max), sum + o.sum, oFirst ? o.first : first, oFirst ? o.firstTs : firstTs,
                oLast ? o.last : last, oLast ? o.lastTs : lastTs);
    }

    public Rollup withBucket(Instant b) {
        return new Rollup(b, count, min, max, sum, first, firstTs, last, lastTs);
    }

    public double avg() {
        return sum / count;
    }
}

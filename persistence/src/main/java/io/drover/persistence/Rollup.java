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
                double v = s.number();
                Rollup one = new Rollup(bucket, 1, v, v, v, v, s.ts(), v, s.ts());
                r = r == null ? one : r.merge(one);
            }
        }
        return r;
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

package io.drover.persistence;

import com.typesafe.config.Config;

/**
 * How long a tenant's telemetry is kept, in days: raw samples, 1-minute and 1-hour rollups. Enforced
 * as Cassandra TTLs on each write (counted from the sample's time), so a change applies to data
 * written after it.
 */
public record Retention(int rawDays, int rollup1mDays, int rollup1hDays) {

    public static final int MAX_DAYS = 3650;

    public Retention {
        check("rawDays", rawDays);
        check("rollup1mDays", rollup1mDays);
        check("rollup1hDays", rollup1hDays);
    }

    private static void check(String name, int days) {
        if (days < 1 || days > MAX_DAYS) {
            throw new IllegalArgumentException(name + " must be between 1 and " + MAX_DAYS + " days");
        }
    }

    public static Retention fromConfig(Config root) {
        Config c = root.getConfig("drover.persistence.retention");
        return new Retention(c.getInt("raw-days"), c.getInt("rollup-1m-days"), c.getInt("rollup-1h-days"));
    }

    /** A tenant's overrides (null = default) applied over the defaults. */
    public static Retention of(Overrides o, Retention defaults) {
        return new Retention(o.rawDays() != null ? o.rawDays() : defaults.rawDays,
                o.rollup1mDays() != null ? o.rollup1mDays() : defaults.rollup1mDays,
                o.rollup1hDays() != null ? o.rollup1hDays() : defaults.rollup1hDays);
    }

    /** What a tenant set; null fields use the deployment's defaults. */
    public record Overrides(Integer rawDays, Integer rollup1mDays, Integer rollup1hDays) {
        public static final Overrides NONE = new Overrides(null, null, null);

        public Overrides {
            if (rawDays != null) {
                check("rawDays", rawDays);
            }
            if (rollup1mDays != null) {
                check("rollup1mDays", rollup1mDays);
            }
            if (rollup1hDays != null) {
                check("rollup1hDays", rollup1hDays);
            }
        }
    }
}

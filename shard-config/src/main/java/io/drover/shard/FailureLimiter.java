package io.drover.shard;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Failed authentications per source address, limited before any lookup (docs/security.md): each source has a
 * bucket of {@code burst} failures refilled at {@code perSecond}; a source whose bucket is empty is refused at once,
 * without a Cassandra read or a twin woken, until it refills. Successes cost nothing. Sources are kept in a
 * {@link BoundedCache} ({@code max-sources}, least recently failed forgotten first), so a flood of addresses bounds
 * memory, not the limit's memory of the worst of them.
 */
public final class FailureLimiter {

    /** {@code drover.security.auth-failures}. */
    public record Settings(double perSecond, int burst, int maxSources) {
        public static Settings fromConfig(Config root) {
            Config c = root.getConfig("drover.security.auth-failures");
            return new Settings(c.getDouble("per-second"), c.getInt("burst"), c.getInt("max-sources"));
        }
    }

    private static final class Bucket {
        double tokens;
        long last;

        Bucket(double tokens, long last) {
            this.tokens = tokens;
            this.last = last;
        }

        synchronized double refill(long now, Settings s) {
            tokens = Math.min(s.burst(), tokens + Math.max(0, now - last) / 1e9 * s.perSecond());
            last = Math.max(last, now);
            return tokens;
        }
    }

    private final Settings settings;
    private final LongSupplier nanoTime;
    private final BoundedCache<String, Bucket> buckets;

    public FailureLimiter(Settings settings) {
        this(settings, System::nanoTime);
    }

    FailureLimiter(Settings settings, LongSupplier nanoTime) {
        this.settings = settings;
        this.nanoTime = nanoTime;
        // an entry outlives its refill time, so forgetting one never hands a source more than a full bucket
        Duration keep = Duration.ofNanos((long) Math.ceil(settings.burst() / settings.perSecond() * 1e9) + 1_000_000_000L);
        this.buckets = new BoundedCache<>(settings.maxSources(), keep, nanoTime, b -> {});
    }

    /** Whether {@code source} has used up its failures: refuse it now, without looking anything up. */
    public boolean blocked(String source) {
        return buckets.get(source).map(b -> b.refill(nanoTime.getAsLong(), settings) < 1).orElse(false);
    }

    /** {@code source} failed an authentication (an unknown or wrong credential). */
    public void failed(String source) {
        long now = nanoTime.getAsLong();
        Bucket b = buckets.computeIfAbsent(source, k -> new Bucket(settings.burst(), now));
        synchronized (b) {
            b.refill(now, settings);
            b.tokens = Math.max(0, b.tokens - 1);
        }
        buckets.put(source, b); // a failure renews the entry's time
    }
}

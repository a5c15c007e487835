package io.drover.http;

import io.drover.device.Credentials;
import io.drover.persistence.AccessStore;
import io.drover.persistence.ApiKey;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/**
 * Turns {@code Authorization: Bearer <key>} into a {@link Principal}: the key is hashed and looked
 * up by hash (the store never sees the secret), expiry is checked, and the answer is cached per node
 * for a short time. Also holds the per-key token buckets behind 429.
 */
public final class Authenticator {

    private record Cached(Optional<ApiKey> key, Instant until) {}

    /** A token bucket; {@link #take} is the whole rule, kept apart so it can be tested with given times. */
    static final class Bucket {
        double tokens;
        long last;

        Bucket(double tokens, long last) {
            this.tokens = tokens;
            this.last = last;
        }

        /**
         * Refills for the time since the last call and takes a token if there is one; returns 0 when taken,
         * else the seconds until one will be there. {@code nowNanos} may be read before another caller's
         * (callers read the clock outside the lock): a negative interval adds nothing and takes nothing away.
         */
        synchronized double take(long nowNanos, double rate, int burst) {
            long elapsed = Math.max(0, nowNanos - last);
            tokens = Math.min(burst, tokens + elapsed / 1e9 * rate);
            last = Math.max(last, nowNanos);
            if (tokens >= 1) {
                tokens -= 1;
                return 0;
            }
            return (1 - tokens) / rate;
        }
    }

    private final AccessStore store;
    private final HttpSettings settings;
    private final ApiMetrics metrics;
    private final Clock clock;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

    public Authenticator(AccessStore store, HttpSettings settings, ApiMetrics metrics, Clock clock) {
        this.store = store;
        this.settings = settings;
        this.metrics = metrics;
        this.clock = clock;
    }

    public CompletionStage<Principal> authenticate(Optional<String> authorization) {
        if (authorization.isEmpty()) {
            return failed("missing-credentials", "send 'Authorization: Bearer <api key>'");
        }
        String h = authorization.get().trim();
        if (!h.regionMatches(true, 0, "Bearer ", 0, 7) || h.length() <= 7) {
            return failed("invalid-credentials", "the Authorization header must be 'Bearer <api key>'");
        }
        String hash = Credentials.hash(h.substring(7).trim());
        Instant now = clock.instant();
        Cached c = cache.get(hash);
        CompletionStage<Optional<ApiKey>> lookup = c != null && c.until().isAfter(now)
                ? CompletableFuture.completedFuture(c.key())
                : metrics.cassandra("api_key_by_hash", () -> store.keyByHash(hash)).thenApply(k -> {
                    if (cache.size() >= settings.authCacheSize()) {
                        cache.clear(); // crude but bounded; a miss only costs one read
                    }
                    cache.put(hash, new Cached(k, now.plus(settings.authCacheTtl())));
                    return k;
                });
        return lookup.thenApply(k -> {
            ApiKey key = k.orElseThrow(() -> problem("invalid-credentials", "unknown API key"));
            if (key.expiredAt(clock.instant())) {
                throw problem("expired-credentials", "this API key expired at " + key.expiresAt().get());
            }
            throttle(key.keyId());
            return new Principal(key.keyId(), key.tenantId(), key.role());
        });
    }

    /** Forget a key at once on this node (after it was deleted here). */
    public void forget(String keyHash) {
        cache.remove(keyHash);
    }

    public void forgetAll() {
        cache.clear();
    }

    private void throttle(String keyId) {
        long nowNanos = System.nanoTime();
        double rate = settings.rateLimitPerSecond();
        int burst = settings.rateLimitBurst();
        if (buckets.size() > settings.authCacheSize()) {
            buckets.clear();
        }
        Bucket b = buckets.computeIfAbsent(keyId, k -> new Bucket(burst, nowNanos));
        double waitSeconds = b.take(nowNanos, rate, burst);
        if (waitSeconds > 0) {
            metrics.rejected("rate-limited");
            throw new ApiProblem(StatusCodes.TOO_MANY_REQUESTS, "rate-limited",
                    "more than " + rate + " requests per second for this API key",
                    Map.of("retryAfterSeconds", Math.max(1, (long) Math.ceil(waitSeconds))));
        }
    }

    private ApiProblem problem(String code, String detail) {
        metrics.rejected(code);
        return new ApiProblem(StatusCodes.UNAUTHORIZED, code, detail);
    }

    private <T> CompletionStage<T> failed(String code, String detail) {
        return CompletableFuture.failedFuture(problem(code, detail));
    }
}

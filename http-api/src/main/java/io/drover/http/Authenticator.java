package io.drover.http;

import io.drover.device.Credentials;
import io.drover.persistence.AccessStore;
import io.drover.persistence.ApiKey;
import io.drover.shard.BoundedCache;
import io.drover.shard.FailureLimiter;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/**
 * Turns {@code Authorization: Bearer <key>} into a {@link Principal}: the key is hashed and looked
 * up by hash (the store never sees the secret), expiry is checked, and the lookup — a miss too — is cached per node
 * for a short time in an LRU ({@link BoundedCache}): a string that matches no key costs at most one Cassandra read
 * per TTL however often it is sent (concurrent requests share the one read), and a flood of distinct strings evicts
 * the least recently used entries instead of every key in use. A source address whose failures pass the
 * {@link FailureLimiter} is refused before any read (429 too-many-auth-failures). Also holds the per-key token
 * buckets behind 429 rate-limited.
 */
public final class Authenticator {

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
    /** Key hash → the lookup (in flight or done); a failed lookup is dropped so the next request reads again. */
    private final BoundedCache<String, CompletableFuture<Optional<ApiKey>>> cache;
    private final BoundedCache<String, Bucket> buckets;
    private final FailureLimiter failures;
    /** Key hash → a recent lookup for {@link #stillValid} (2 s). */
    private final BoundedCache<String, CompletableFuture<Optional<ApiKey>>> revalidated;

    public Authenticator(AccessStore store, HttpSettings settings, FailureLimiter failures, ApiMetrics metrics,
            Clock clock) {
        this.store = store;
        this.settings = settings;
        this.failures = failures;
        this.metrics = metrics;
        this.clock = clock;
        this.cache = new BoundedCache<>(settings.authCacheSize(), settings.authCacheTtl());
        this.buckets = new BoundedCache<>(settings.authCacheSize(), Duration.ofMinutes(10));
        this.revalidated = new BoundedCache<>(settings.authCacheSize(), Duration.ofSeconds(2));
    }

    /** @param source the client's address (the limiter's key), never a header the client chose */
    public CompletionStage<Principal> authenticate(Optional<String> authorization, String source) {
        if (authorization.isEmpty()) {
            return failed("missing-credentials", "send 'Authorization: Bearer <api key>'");
        }
        String h = authorization.get().trim();
        boolean wellFormed = h.regionMatches(true, 0, "Bearer ", 0, 7) && h.length() > 7;
        String hash = wellFormed ? Credentials.hash(h.substring(7).trim()) : null;
        Optional<CompletableFuture<Optional<ApiKey>>> cached = wellFormed ? cache.get(hash) : Optional.empty();
        boolean knownKey = cached.isPresent() && cached.get().isDone() && !cached.get().isCompletedExceptionally()
                && cached.get().join().isPresent();
        if (!knownKey && failures.blocked(source)) {
            // a key this node knows still works from a blocked address (it costs no read); nothing else is looked up
            metrics.rejected("too-many-auth-failures");
            return CompletableFuture.failedFuture(new ApiProblem(StatusCodes.TOO_MANY_REQUESTS,
                    "too-many-auth-failures", "too many failed authentications from this address; try again later",
                    Map.of("retryAfterSeconds", 1)));
        }
        if (!wellFormed) {
            failures.failed(source);
            return failed("invalid-credentials", "the Authorization header must be 'Bearer <api key>'");
        }
        CompletableFuture<Optional<ApiKey>> lookup = cached.orElseGet(() -> BoundedCache.loading(cache, hash,
                () -> metrics.cassandra("api_key_by_hash", () -> store.keyByHash(hash))));
        return lookup.thenApply(k -> {
            if (k.isEmpty()) {
                failures.failed(source);
            }
            ApiKey key = k.orElseThrow(() -> problem("invalid-credentials", "unknown API key"));
            if (key.expiredAt(clock.instant())) {
                throw problem("expired-credentials", "this API key expired at " + key.expiresAt().get());
            }
            throttle(key.keyId());
            return new Principal(key.keyId(), key.tenantId(), key.role());
        });
    }

    /**
     * Whether the credentials an open connection (a WebSocket) was authenticated with still name a key that exists
     * and has not expired. Read through a cache of its own with a 2 s expiry (at most one read per key per 2 s
     * per node, however many sockets use it), so a key deleted or expired anywhere is seen within 2 s of the
     * check. A failed read answers true: a Cassandra blip does not close every socket (the next check reads again).
     */
    public CompletionStage<Boolean> stillValid(Optional<String> authorization) {
        String h = authorization.map(String::trim).orElse("");
        if (!h.regionMatches(true, 0, "Bearer ", 0, 7) || h.length() <= 7) {
            return CompletableFuture.completedFuture(false);
        }
        String hash = Credentials.hash(h.substring(7).trim());
        CompletableFuture<Optional<ApiKey>> lookup = BoundedCache.loading(revalidated, hash,
                () -> metrics.cassandra("api_key_by_hash", () -> store.keyByHash(hash)));
        return lookup.handle((k, e) -> e != null || k.isPresent() && !k.get().expiredAt(clock.instant()));
    }

    /** Forget a key at once on this node (after it was deleted here). */
    public void forget(String keyHash) {
        cache.invalidate(keyHash);
    }

    private void throttle(String keyId) {
        long nowNanos = System.nanoTime();
        double rate = settings.rateLimitPerSecond();
        int burst = settings.rateLimitBurst();
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

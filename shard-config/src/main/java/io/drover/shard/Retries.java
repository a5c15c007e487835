package io.drover.shard;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Retries with exponential backoff and jitter, for hot paths: a first attempt that succeeds costs nothing beyond
 * the attempt itself (no extra futures or dispatcher hops, unlike {@code Patterns.retry}, whose Scala futures add
 * callbacks on the dispatcher for every call); only a failed attempt schedules the next.
 */
public final class Retries {

    private Retries() {}

    /**
     * Runs {@code attempt} up to {@code attempts} times (at least once), waiting {@code minBackoff} · 2^n (at most
     * {@code maxBackoff}, ±20 %) between tries; fails with the last failure.
     */
    public static <T> CompletableFuture<T> retry(Supplier<CompletionStage<T>> attempt, int attempts, Duration minBackoff,
            Duration maxBackoff) {
        CompletableFuture<T> result = new CompletableFuture<>();
        run(attempt, 1, Math.max(1, attempts), minBackoff.toMillis(), maxBackoff.toMillis(), result);
        return result;
    }

    private static <T> void run(Supplier<CompletionStage<T>> attempt, int n, int attempts, long min, long max,
            CompletableFuture<T> result) {
        CompletionStage<T> stage;
        try {
            stage = attempt.get();
        } catch (RuntimeException e) {
            stage = CompletableFuture.failedFuture(e);
        }
        stage.whenComplete((value, error) -> {
            if (error == null) {
                result.complete(value);
            } else if (n >= attempts) {
                result.completeExceptionally(error);
            } else {
                long base = Math.min(max, min << Math.min(20, n - 1));
                long delay = (long) (base * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble()));
                CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS)
                        .execute(() -> run(attempt, n + 1, attempts, min, max, result));
            }
        });
    }
}

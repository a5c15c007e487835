package io.drover.shard;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Completion stages from Pekko's Java API (ask, {@code Patterns.retry}, a stream's materialized value) are
 * Scala futures converted by {@code scala.jdk.FutureConverters}, whose {@code thenApply}, {@code whenComplete},
 * {@code thenCompose}… run <em>asynchronously</em> on the JDK's default async executor. On a machine with two
 * cores that executor is not the common pool but a new thread per task (the common pool's parallelism is
 * cores − 1 = 1), so each callback started a thread: that was most of the HTTP API's CPU per request here.
 * {@link #direct} hands such a stage's outcome to a plain future on the completing thread, so what callers
 * chain onto it runs there, as it would for any other future.
 */
public final class Stages {

    private Stages() {}

    public static <T> CompletableFuture<T> direct(CompletionStage<T> stage) {
        if (stage.getClass() == CompletableFuture.class) {
            return (CompletableFuture<T>) stage;
        }
        CompletableFuture<T> out = new CompletableFuture<>();
        stage.whenCompleteAsync((value, error) -> {
            if (error != null) {
                out.completeExceptionally(error);
            } else {
                out.complete(value);
            }
        }, Runnable::run);
        return out;
    }
}

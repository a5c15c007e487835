package io.drover.persistence.testing;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

/**
 * The one wait of the test suites: polls until a condition holds; when it times out it fails with what it
 * last saw (or the last exception), so a red test says why.
 */
public final class Eventually {

    private Eventually() {}

    /** Returns the first value of {@code probe} that {@code ok} accepts within {@code timeout}. */
    public static <T> T await(String what, Duration timeout, Callable<T> probe, Predicate<T> ok) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        T last = null;
        Exception lastError = null;
        long pause = 20;
        while (true) {
            try {
                last = probe.call();
                lastError = null;
                if (ok.test(last)) {
                    return last;
                }
            } catch (Exception e) {
                lastError = e;
            }
            if (System.nanoTime() > deadline) {
                AssertionError failure = new AssertionError("timed out after " + timeout + " waiting for " + what
                        + "; last seen: " + (lastError != null ? lastError : last));
                if (lastError != null) {
                    failure.initCause(lastError);
                }
                throw failure;
            }
            Thread.sleep(pause);
            pause = Math.min(pause * 2, 250);
        }
    }
}

package io.drover.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RateLimitBucketTest {

    @Test
    void aCallerWithAnEarlierClockReadingTakesNothingAway() {
        // Two requests read the clock 1 ms apart and enter the lock in the other order; at 1M/s the late
        // one's negative interval once removed ~1,000 tokens and answered 429 under light load.
        Authenticator.Bucket b = new Authenticator.Bucket(400, 1_000_000_000L);
        assertEquals(0, b.take(1_001_000_000L, 1_000_000, 400));
        assertEquals(0, b.take(1_000_000_000L, 1_000_000, 400));
        assertTrue(b.tokens >= 398, "tokens left: " + b.tokens);
    }

    @Test
    void anEmptyBucketAnswersTheWaitAndRefillsWithTime() {
        Authenticator.Bucket b = new Authenticator.Bucket(2, 0);
        assertEquals(0, b.take(0, 0.5, 2));
        assertEquals(0, b.take(0, 0.5, 2));
        assertEquals(2.0, b.take(0, 0.5, 2), 1e-9);   // 1 token at 0.5/s: 2 s
        assertEquals(0, b.take(2_000_000_000L, 0.5, 2));
        assertTrue(b.take(2_000_000_000L, 0.5, 2) > 0);
    }
}

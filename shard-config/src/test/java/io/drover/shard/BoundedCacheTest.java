package io.drover.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class BoundedCacheTest {

    @Test
    void leastRecentlyUsedGoesFirstAndEntriesExpire() {
        AtomicLong now = new AtomicLong();
        List<String> evicted = new ArrayList<>();
        BoundedCache<String, String> c = new BoundedCache<>(2, Duration.ofSeconds(10), now::get, evicted::add);
        c.put("a", "A");
        c.put("b", "B");
        assertEquals(Optional.of("A"), c.get("a")); // a is now the most recent
        c.put("c", "C");
        assertEquals(Optional.empty(), c.get("b"), "b was least recently used");
        assertEquals(List.of("B"), evicted);
        now.addAndGet(Duration.ofSeconds(11).toNanos());
        assertTrue(c.get("a").isEmpty(), "expired");
        assertEquals(List.of("B", "A"), evicted);
        assertEquals("X", c.computeIfAbsent("x", k -> "X"));
        assertEquals("X", c.computeIfAbsent("x", k -> "Y"));
        assertEquals(2, c.size());
    }
}

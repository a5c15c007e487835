package io.drover.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RollupWindowTest {

    private static final Instant T = Instant.parse("2026-12-02T10:15:00Z");

    @Test
    void equalWindowsAreEqualWithTheSameHash() {
        RollupWindow a = new RollupWindow("t", "d", "k", RollupWindow.Resolution.MINUTE, T);
        RollupWindow b = new RollupWindow(new String("t"), new String("d"), new String("k"),
                RollupWindow.Resolution.MINUTE, Instant.ofEpochMilli(T.toEpochMilli()));
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertEquals(a.hour(), b.hour());
        assertEquals(a.hour().hashCode(), b.hour().hashCode());
    }

    @Test
    void everyComponentTellsWindowsApart() {
        RollupWindow a = new RollupWindow("t", "d", "k", RollupWindow.Resolution.MINUTE, T);
        List<RollupWindow> others = List.of(
                new RollupWindow("u", "d", "k", RollupWindow.Resolution.MINUTE, T),
                new RollupWindow("t", "e", "k", RollupWindow.Resolution.MINUTE, T),
                new RollupWindow("t", "d", "l", RollupWindow.Resolution.MINUTE, T),
                new RollupWindow("t", "d", "k", RollupWindow.Resolution.HOUR, T),
                new RollupWindow("t", "d", "k", RollupWindow.Resolution.MINUTE, T.plusSeconds(60)),
                new RollupWindow("t", "d", "k", RollupWindow.Resolution.MINUTE, T.plusNanos(1)));
        for (RollupWindow o : others) {
            assertNotEquals(a, o, o.toString());
            assertNotEquals(o, a, o.toString());
        }
        assertNotEquals(a, null);
        assertNotEquals(a, "t");
    }

    @Test
    void hashesSpreadOverDevicesKeysAndMinutes() {
        Set<Integer> hashes = new HashSet<>();
        int n = 0;
        for (int d = 0; d < 100; d++) {
            for (String k : List.of("temperature", "humidity", "pressure", "battery")) {
                for (int m = 0; m < 10; m++) {
                    hashes.add(new RollupWindow("tenant-1", "device-" + d, k, RollupWindow.Resolution.MINUTE,
                            T.plusSeconds(60L * m)).hashCode());
                    n++;
                }
            }
        }
        // 4,000 windows: a weak hash (e.g. one that ignored the bucket or the key) would collide by the hundreds
        assertEquals(n, hashes.size(), 3.0 * n / 100);
    }
}

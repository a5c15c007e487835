package io.drover.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.drover.persistence.Rollup;
import io.drover.persistence.RollupWindow;
import io.drover.persistence.TelemetrySample;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The tracker's in-memory fold: exact for in-order samples written without failure, absent otherwise. */
class RollupTrackerTest {

    private static final Instant T0 = Instant.parse("2026-11-30T10:00:00Z");

    private static TelemetrySample v(String device, long ms, double value) {
        return TelemetrySample.number("t", device, "v", T0.plusMillis(ms), value, T0);
    }

    private static List<RollupTracker.Due> dueNow(RollupTracker t) {
        return t.due(T0.plusSeconds(3600).toEpochMilli(), 1000);
    }

    @Test
    void inOrderSamplesFoldToTheirRollup() {
        RollupTracker t = new RollupTracker(0, 0, 100);
        List<TelemetrySample> all = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            all.add(v("d", i * 1000L, (i * 7919 % 100) - 50.5));
        }
        RollupTracker.Begun b1 = t.begin(all.subList(0, 10), 0);
        assertEquals(List.of(RollupWindow.minuteOf(all.get(0))), b1.folded());
        RollupTracker.Begun b2 = t.begin(all.subList(10, 30), 0);
        assertTrue(b2.folded().isEmpty(), "the window's mark goes with its first write only");
        assertTrue(dueNow(t).isEmpty(), "not due while writes are in flight");
        t.end(b1.touched(), true);
        t.end(b2.touched(), true);
        List<RollupTracker.Due> due = dueNow(t);
        assertEquals(1, due.size());
        assertEquals(Rollup.of(due.get(0).window().bucket(), all), due.get(0).fold());
    }

    @Test
    void aRepeatedOrOlderSampleOrAFailedWriteLeavesNoFold() {
        RollupTracker t = new RollupTracker(0, 0, 100);
        RollupTracker.Begun b = t.begin(List.of(v("dup", 1000, 1), v("dup", 1000, 1), v("old", 2000, 1), v("old", 1500, 2),
                v("failed", 1000, 1), v("fine", 1000, 1)), 0);
        t.end(b.touched(), true);
        RollupTracker.Begun f = t.begin(List.of(v("failed", 2000, 2)), 0);
        t.end(f.touched(), false);
        for (RollupTracker.Due d : dueNow(t)) {
            if (d.window().deviceId().equals("fine")) {
                assertEquals(1, d.fold().count());
            } else {
                assertNull(d.fold(), d.window().deviceId());
            }
        }
    }

    /** An hour is recomputed once, after it has closed, not after each of its minutes (queries merge it meanwhile). */
    @Test
    void anHourIsDueOnceItHasClosedNotAfterEachMinute() {
        RollupTracker t = new RollupTracker(5_000, 15_000, 100);
        RollupWindow hour = RollupWindow.minuteOf(v("d", 0, 1)).hour();
        long end = hour.end().toEpochMilli();
        for (int minute = 1; minute < 60; minute++) { // each minute of the hour stored, and the hour told
            long now = T0.toEpochMilli() + minute * 60_000L + 6_000;
            t.hourChanged(hour, now);
            assertTrue(t.due(now + 17_000, 100).isEmpty(), "not recomputed after minute " + minute);
        }
        assertTrue(t.due(end + 5_000 + 15_000, 100).isEmpty(), "grace and margin after its end");
        assertEquals(List.of(new RollupTracker.Due(hour, null)), t.due(end + 5_000 + 15_000 + 1_000, 100));
        t.hourChanged(hour, end + 120_000); // a late minute after the hour was stored: the margin only
        assertEquals(List.of(new RollupTracker.Due(hour, null)), t.due(end + 120_000 + 16_000, 100));
    }

    @Test
    void windowsThatDoNotFitAreMarkedUnfolded() {
        RollupTracker t = new RollupTracker(0, 0, 1);
        RollupTracker.Begun b = t.begin(List.of(v("a", 0, 1), v("b", 0, 1), v("b", 10, 1)), 0);
        assertEquals(1, b.folded().size());
        assertEquals(List.of(RollupWindow.minuteOf(v("b", 0, 1))), b.unfolded());
        assertEquals(1, b.touched().size());
    }
}

package io.drover.telemetry;

import io.drover.persistence.RollupWindow;
import io.drover.persistence.TelemetrySample;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * This node's view of the rollup windows its writes touched (see docs/telemetry.md). A minute window
 * is recomputed from the raw rows once it has closed (plus {@code grace}), its durable pending mark is
 * older than the clear margin, and none of this node's writes into it is still in flight. The first
 * write of a window on this node carries the durable mark; later writes do not need to, because this
 * node recomputes after them anyway. An hour is recomputed {@code margin} after its last minute changed.
 *
 * <p>Bounded by {@code maxWindows}: a window that does not fit is not tracked here, its writes then
 * always carry the durable mark and the sweeper recomputes it. Thread-safe (one lock; short sections).
 */
final class RollupTracker {

    private static final class Window {
        int inFlight;
        long dueMs;
    }

    /** What a write needs: the windows it touches, and those whose durable mark it must carry. */
    record Begun(Set<RollupWindow> touched, List<RollupWindow> marks) {}

    private final long graceMs;
    private final long marginMs;
    private final int maxWindows;
    private final Map<RollupWindow, Window> minutes = new HashMap<>();
    private final Map<RollupWindow, Long> hours = new HashMap<>();

    RollupTracker(long graceMs, long marginMs, int maxWindows) {
        this.graceMs = graceMs;
        this.marginMs = marginMs;
        this.maxWindows = maxWindows;
    }

    synchronized Begun begin(Collection<TelemetrySample> samples, long nowMs) {
        Set<RollupWindow> touched = new LinkedHashSet<>();
        for (TelemetrySample s : samples) {
            if (s.numeric()) {
                touched.add(RollupWindow.minuteOf(s));
            }
        }
        List<RollupWindow> marks = new ArrayList<>();
        Set<RollupWindow> tracked = new LinkedHashSet<>();
        for (RollupWindow w : touched) {
            Window st = minutes.get(w);
            if (st == null) {
                marks.add(w);
                if (minutes.size() + hours.size() >= maxWindows) {
                    continue;
                }
                st = new Window();
                // The mark is written now; clearing it works once the read starts margin after it.
                st.dueMs = Math.max(w.end().toEpochMilli() + graceMs, nowMs + marginMs + 1000);
                minutes.put(w, st);
            }
            st.inFlight++;
            tracked.add(w);
        }
        return new Begun(tracked, marks);
    }

    /** A write finished (either way): its windows can be recomputed once due. */
    synchronized void end(Set<RollupWindow> touched) {
        for (RollupWindow w : touched) {
            Window st = minutes.get(w);
            if (st != null) {
                st.inFlight--;
            }
        }
    }

    /** A minute of this hour changed: recompute the hour once no more minute changes for a margin. */
    synchronized void hourChanged(RollupWindow hour, long nowMs) {
        if (hours.containsKey(hour) || minutes.size() + hours.size() < maxWindows) {
            hours.put(hour, nowMs + marginMs + 1000);
        }
    }

    /** Removes and returns up to {@code max} windows ready to be recomputed (minutes first). */
    synchronized List<RollupWindow> due(long nowMs, int max) {
        List<RollupWindow> out = new ArrayList<>();
        Iterator<Map.Entry<RollupWindow, Window>> it = minutes.entrySet().iterator();
        while (it.hasNext() && out.size() < max) {
            Map.Entry<RollupWindow, Window> e = it.next();
            if (e.getValue().inFlight == 0 && e.getValue().dueMs <= nowMs) {
                out.add(e.getKey());
                it.remove();
            }
        }
        Iterator<Map.Entry<RollupWindow, Long>> hi = hours.entrySet().iterator();
        while (hi.hasNext() && out.size() < max) {
            Map.Entry<RollupWindow, Long> e = hi.next();
            if (e.getValue() <= nowMs) {
                out.add(e.getKey());
                hi.remove();
            }
        }
        return out;
    }

    synchronized int size() {
        return minutes.size() + hours.size();
    }
}

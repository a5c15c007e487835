package io.drover.telemetry;

import io.drover.persistence.Rollup;
import io.drover.persistence.RollupWindow;
import io.drover.persistence.TelemetrySample;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * This node's view of the rollup windows its writes touched (see docs/telemetry.md). A minute window
 * is stored once it has closed (plus {@code grace}), its durable pending mark is older than the clear
 * margin, and none of this node's writes into it is still in flight. The first write of a window on this
 * node carries the durable mark; later writes do not need to, because this node stores the window after
 * them anyway. An hour is recomputed once it has closed (plus {@code grace}) and {@code margin} after its last
 * minute changed: once an hour, not once a minute (queries compute an hour that is still open from its minutes,
 * {@link io.drover.persistence.TelemetryStore#readRollups}).
 *
 * <p>Each tracked minute also folds the numeric samples this node wrote into it, in the order they were
 * submitted, so the window can be stored without reading its raw rows back ({@link Due#fold}). The fold is
 * <em>exact</em> only if every sample came in time order (a sample at or before the window's last one may
 * be a re-delivery, which would count twice) and every write of it succeeded; otherwise the window is
 * recomputed from the raw rows. Whether another writer wrote into the window too is decided by the store
 * (the writers of its mark, {@link io.drover.persistence.TelemetryStore#fold}).
 *
 * <p>Bounded by {@code maxWindows}: a window that does not fit is not tracked here, its writes then
 * always carry the durable mark (as unfolded) and the sweeper recomputes it. Thread-safe (one lock; short
 * sections).
 */
final class RollupTracker {

    private static final class Window {
        int inFlight;
        long dueMs;
        boolean exact = true;
        long count;
        double min;
        double max;
        double sum;
        double first;
        Instant firstTs;
        double last;
        Instant lastTs;

        void add(TelemetrySample s) {
            double v = s.number();
            if (count == 0) {
                min = v;
                max = v;
                first = v;
                firstTs = s.ts();
            } else if (!s.ts().isAfter(lastTs)) {
                exact = false;
                return;
            } else {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            count++;
            sum += v;
            last = v;
            lastTs = s.ts();
        }
    }

    /**
     * What a write needs: the windows it touches (tracked here), the new ones whose durable mark it carries as
     * folded by this node, and those it marks as unfolded (no room in the tracker).
     */
    record Begun(Set<RollupWindow> touched, List<RollupWindow> folded, List<RollupWindow> unfolded) {}

    /** A window to store now: {@code fold} is this node's exact rollup of it, or null (recompute it). */
    record Due(RollupWindow window, Rollup fold) {}

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
        Map<RollupWindow, Window> batch = new LinkedHashMap<>(); // null value: not tracked
        List<RollupWindow> folded = new ArrayList<>();
        List<RollupWindow> unfolded = new ArrayList<>();
        for (TelemetrySample s : samples) {
            if (!s.numeric()) {
                continue;
            }
            RollupWindow w = RollupWindow.minuteOf(s);
            Window st = batch.get(w);
            if (st == null && !batch.containsKey(w)) {
                st = minutes.get(w);
                if (st == null) {
                    if (minutes.size() + hours.size() >= maxWindows) {
                        unfolded.add(w);
                        batch.put(w, null);
                        continue;
                    }
                    st = new Window();
                    // The mark is written now; clearing it works once the read starts margin after it.
                    st.dueMs = Math.max(w.end().toEpochMilli() + graceMs, nowMs + marginMs + 1000);
                    minutes.put(w, st);
                    folded.add(w);
                }
                st.inFlight++;
                batch.put(w, st);
            }
            if (st != null) {
                st.add(s);
            }
        }
        Set<RollupWindow> touched = new java.util.HashSet<>();
        batch.forEach((w, st) -> {
            if (st != null) {
                touched.add(w);
            }
        });
        return new Begun(touched, folded, unfolded);
    }

    /**
     * A write finished: its windows can be stored once due. A failed write may have stored some of its samples,
     * so its windows' folds are no longer exact.
     */
    synchronized void end(Set<RollupWindow> touched, boolean ok) {
        for (RollupWindow w : touched) {
            Window st = minutes.get(w);
            if (st != null) {
                st.inFlight--;
                st.exact &= ok;
            }
        }
    }

    /** A minute of this hour changed: recompute the hour once it has closed and no minute changed for a margin. */
    synchronized void hourChanged(RollupWindow hour, long nowMs) {
        if (hours.containsKey(hour) || minutes.size() + hours.size() < maxWindows) {
            hours.put(hour, Math.max(nowMs, hour.end().toEpochMilli() + graceMs) + marginMs + 1000);
        }
    }

    /** Removes and returns up to {@code max} windows ready to be stored (minutes first). */
    synchronized List<Due> due(long nowMs, int max) {
        List<Due> out = new ArrayList<>();
        Iterator<Map.Entry<RollupWindow, Window>> it = minutes.entrySet().iterator();
        while (it.hasNext() && out.size() < max) {
            Map.Entry<RollupWindow, Window> e = it.next();
            Window st = e.getValue();
            if (st.inFlight == 0 && st.dueMs <= nowMs) {
                RollupWindow w = e.getKey();
                out.add(new Due(w, st.exact && st.count > 0 ? new Rollup(w.bucket(), st.count, st.min, st.max, st.sum,
                        st.first, st.firstTs, st.last, st.lastTs) : null));
                it.remove();
            }
        }
        Iterator<Map.Entry<RollupWindow, Long>> hi = hours.entrySet().iterator();
        while (hi.hasNext() && out.size() < max) {
            Map.Entry<RollupWindow, Long> e = hi.next();
            if (e.getValue() <= nowMs) {
                out.add(new Due(e.getKey(), null));
                hi.remove();
            }
        }
        return out;
    }

    synchronized int size() {
        return minutes.size() + hours.size();
    }
}

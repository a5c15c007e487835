package io.drover.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * The window of {@link RuleRuntime} (primitive arrays, appends and shifts) against a plain sorted-map reference:
 * random points in and out of order, repeats of a time, removals (a value that became unknown), values of every kind
 * (numbers, booleans, text), the sample cap, sliding and tumbling spans; after each add, every aggregate at the
 * newest time and at random times agrees exactly (same summation order, so the same bits).
 */
class WindowPropertiesTest {

    @Property(tries = 400)
    void arraysAgreeWithASortedMap(@ForAll long seed) {
        Random r = new Random(seed);
        Expr.Aggregate agg = Expr.Aggregate.values()[r.nextInt(Expr.Aggregate.values().length)];
        long width = 1 + r.nextInt(r.nextBoolean() ? 50 : 5_000);
        boolean tumbling = r.nextBoolean();
        int max = 1 + r.nextInt(r.nextBoolean() ? 5 : 200);
        Expr.Windowed spec = new Expr.Windowed(agg, new Expr.Ref(Expr.Root.VALUES, "v", 0), width, tumbling, 0);
        RuleRuntime.Window w = new RuleRuntime.Window(spec);
        Reference ref = new Reference(spec);
        long newest = Long.MIN_VALUE;
        long ts = r.nextInt(1000);
        for (int i = 0, n = 1 + r.nextInt(300); i < n; i++) {
            long t;
            int shape = r.nextInt(10);
            if (shape < 6 || newest == Long.MIN_VALUE) {
                ts += r.nextInt((int) Math.min(Integer.MAX_VALUE, 2 * width + 1));
                t = ts;
            } else if (shape < 9) {
                t = newest - r.nextInt((int) Math.min(Integer.MAX_VALUE, 3 * width + 1)); // late or a repeat
            } else {
                t = newest; // the same time again
            }
            Object v = switch (r.nextInt(7)) {
                case 0 -> null;
                case 1 -> Boolean.TRUE;
                case 2 -> Boolean.FALSE;
                case 3 -> "text";
                default -> (double) (r.nextInt(2000) - 1000) / (1 + r.nextInt(7));
            };
            newest = Math.max(newest, t);
            w.add(t, v, newest, max);
            ref.add(t, v, newest, max);
            assertEquals(ref.size(), w.size(), "points after add " + i);
            assertEquals(ref.value(newest), w.value(newest), "value at the newest time after add " + i);
            long at = newest - r.nextInt((int) Math.min(Integer.MAX_VALUE, 3 * width + 1));
            assertEquals(ref.value(at), w.value(at), "value at " + at + " after add " + i);
        }
    }

    /** The obvious implementation: a sorted map from time to value. */
    private static final class Reference {
        private final Expr.Windowed spec;
        private final TreeMap<Long, Object> points = new TreeMap<>();

        Reference(Expr.Windowed spec) {
            this.spec = spec;
        }

        int size() {
            return points.size();
        }

        void add(long ts, Object v, long newest, int max) {
            long span = spec.tumbling() ? 2 * spec.windowMillis() : spec.windowMillis();
            if (ts <= newest - span) {
                return;
            }
            if (v == null) {
                points.remove(ts);
            } else {
                points.put(ts, v);
            }
            points.headMap(newest - span, true).clear();
            while (points.size() > max) {
                points.pollFirstEntry();
            }
        }

        Object value(long at) {
            long w = spec.windowMillis();
            NavigableMap<Long, Object> range;
            if (spec.tumbling()) {
                long end = Math.floorDiv(at, w) * w;
                range = points.subMap(end - w, true, end, false);
            } else {
                range = points.subMap(at - w, false, at, true);
            }
            if (spec.aggregate() == Expr.Aggregate.COUNT) {
                return (double) range.values().stream().filter(v -> !Boolean.FALSE.equals(v)).count();
            }
            double sum = 0;
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            int n = 0;
            for (Object v : range.values()) {
                if (v instanceof Double d) {
                    sum += d;
                    min = Math.min(min, d);
                    max = Math.max(max, d);
                    n++;
                }
            }
            if (n == 0) {
                return spec.aggregate() == Expr.Aggregate.SUM ? 0.0 : null;
            }
            return switch (spec.aggregate()) {
                case AVG -> sum / n;
                case MIN -> min;
                case MAX -> max;
                case SUM -> sum;
                default -> null;
            };
        }
    }
}

package io.drover.rules;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The complex-event engine of one device (docs/rules.md): windows, previous values and the state machine of each
 * rule (inactive → pending → active → inactive). The live owner ({@code DeviceRules}) and the backtest run this
 * same code; only the owner of the device's rule state touches an instance (it is mutable and not thread-safe).
 *
 * <p>Time is the messages' own time ({@code ts}), not arrival. A message newer than every message seen is
 * <em>evaluated</em>: it may start, raise or clear. A message that is not newer (late, or delivered again — the ingest
 * is at least once) only refines the windows, keyed by its time, so it is never counted twice and never moves a rule.
 * {@link #advance} is the clock: it raises the pending rules whose {@code for} ran out and the absence rules whose
 * device went quiet, each at the exact deadline, so where the ticks fall does not change the outcome.
 */
public final class RuleRuntime {

    public enum Status {
        INACTIVE, PENDING, ACTIVE
    }

    /** The part of a rule's state that is journaled (the rest — windows, previous values — is rebuilt). */
    public record RuleStatus(int version, Status status, long since) implements RulesSerializable {}

    /** What a rule can read about the device besides the message. Null fields read as unknown. */
    public record Facts(String deviceId, String name, String type, List<String> labels, ObjectNode attributes,
            ObjectNode reported, ObjectNode desired) {

        public static Facts of(String deviceId) {
            return new Facts(deviceId, null, null, List.of(), null, null, null);
        }
    }

    public sealed interface Output {
        String ruleId();

        int version();
    }

    public enum Kind {
        /** The condition began to hold; the rule waits {@code for}. */
        PENDING,
        /** The rule fired: raise its alarm, run its raise actions. */
        RAISED,
        /** It stopped holding (or its clear condition held): clear its alarm, run its clear actions. */
        CLEARED,
        /** A pending rule stopped holding before its {@code for} ran out, or its new version dropped the wait. */
        RESET
    }

    /**
     * A change of a rule's status at {@code at} (message time, or the deadline for ticks).
     *
     * @param since when the condition began to hold (for RAISED: the start of the {@code for} window)
     * @param values the message that caused it (empty for a deadline)
     */
    public record Transition(String ruleId, int version, Kind kind, long at, long since, Map<String, Object> values)
            implements Output {}

    /** A derive action computed {@code value} for {@code key} at {@code ts}. */
    public record Derived(String ruleId, int version, String key, Object value, long ts) implements Output {}

    private final RulesSettings limits;
    private final Map<String, PerRule> rules = new HashMap<>();
    /** Newest value and its time per key, from evaluated messages only; insertion-ordered, bounded. */
    private final LinkedHashMap<String, Latest> latest = new LinkedHashMap<>(16, 0.75f, true);
    private long lastTs = Long.MIN_VALUE;
    /** The rule list last synced against (its identity: an owner passes the same list until its rules change). */
    private List<CompiledRule> synced;
    /** The state of {@code synced.get(i)} at index i (no map lookups per message and rule). */
    private PerRule[] aligned = new PerRule[0];
    /** A journaled status changed since {@link #takeChanged} was last called. */
    private boolean changed;

    private record Latest(Object value, long ts) {}

    private static final class PerRule {
        int version;
        Status status = Status.INACTIVE;
        long since;
        Map<String, Object> trigger = Map.of();
        Window[] windows;
        boolean restored;

        PerRule(CompiledRule r) {
            reset(r);
        }

        void reset(CompiledRule r) {
            version = r.version();
            windows = new Window[r.windows().size()];
            for (int i = 0; i < windows.length; i++) {
                windows[i] = new Window(r.windows().get(i));
            }
        }
    }

    public RuleRuntime(RulesSettings limits) {
        this.limits = limits;
    }

    /** Newest evaluated message time, or {@code Long.MIN_VALUE}. */
    public long lastEvaluated() {
        return lastTs;
    }

    /**
     * One message of the device at {@code ts}. {@code rules} are the enabled rules that watch the device (the caller
     * filtered by trigger). {@code derived}: the message was written by a derive action, which then does not run
     * derive actions again (no loops).
     */
    public List<Output> observe(List<CompiledRule> rules, Facts facts, long ts, Map<String, Object> values,
            boolean derived) {
        List<Output> out = new ArrayList<>();
        sync(rules, out, ts);
        boolean late = ts <= lastTs;
        if (!late) {
            advance(rules, ts, out);
        }
        Scope scope = new Scope(facts, values, ts, late);
        PerRule[] state = aligned;
        for (PerRule p : state) {
            scope.rule = p;
            for (Window w : p.windows) {
                w.add(ts, w.spec.of().eval(scope), Math.max(ts, lastTs), limits.windowMaxSamples());
            }
        }
        if (!late) {
            for (int i = 0; i < state.length; i++) {
                PerRule p = state[i];
                scope.rule = p;
                evaluate(rules.get(i), p, scope, ts, values, derived, out);
            }
            remember(values, ts);
            lastTs = ts;
        }
        return out;
    }

    /** The clock moved to {@code now}: fires every deadline at or before it. */
    public List<Output> advance(List<CompiledRule> rules, long now) {
        List<Output> out = new ArrayList<>();
        sync(rules, out, now);
        advance(rules, now, out);
        return out;
    }

    /** The earliest deadline of a pending or absence rule, if any. */
    public OptionalLong nextDeadline(List<CompiledRule> rules) {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < rules.size(); i++) {
            CompiledRule r = rules.get(i);
            PerRule p = rules == synced ? aligned[i] : this.rules.get(r.id());
            if (p == null || p.version != r.version()) {
                continue;
            }
            long d = deadline(r, p);
            if (d != Long.MAX_VALUE) {
                best = Math.min(best, d);
            }
        }
        return best == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(best);
    }

    /** Whether any rule's journaled status changed since the last call (then {@link #statuses} says how). */
    public boolean takeChanged() {
        boolean c = changed;
        changed = false;
        return c;
    }

    /** The journaled part of every rule's state. */
    public Map<String, RuleStatus> statuses() {
        Map<String, RuleStatus> m = new HashMap<>();
        rules.forEach((id, p) -> m.put(id, new RuleStatus(p.version, p.status, p.since)));
        return m;
    }

    /** After recovery: statuses from the journal; windows and previous values start empty. */
    public void restore(Map<String, RuleStatus> statuses, long lastEvaluated) {
        statuses.forEach((id, s) -> {
            PerRule p = new PerRule(new CompiledRule(id, s.version(), null, null, null, 0, 0, List.of(), List.of(), false));
            p.status = s.status();
            p.since = s.since();
            p.restored = true;
            rules.put(id, p);
        });
        synced = null;
        lastTs = Math.max(lastTs, lastEvaluated);
    }

    /** Absence rules need a start: the device's newest message time (the owner restores it). */
    private long deadline(CompiledRule r, PerRule p) {
        if (r.absence()) {
            return p.status == Status.ACTIVE || lastTs == Long.MIN_VALUE ? Long.MAX_VALUE : lastTs + r.noDataMillis();
        }
        return p.status == Status.PENDING ? p.since + r.holdMillis() : Long.MAX_VALUE;
    }

    private void sync(List<CompiledRule> current, List<Output> out, long at) {
        if (current == synced) {
            return; // the same rules as for the last message: nothing to add, drop or reset
        }
        synced = current;
        aligned = new PerRule[current.size()];
        if (rules.size() > current.size() || current.stream().anyMatch(r -> !rules.containsKey(r.id()))) {
            Map<String, CompiledRule> byId = new HashMap<>();
            current.forEach(r -> byId.put(r.id(), r));
            changed |= rules.keySet().removeIf(id -> !byId.containsKey(id));
        }
        for (int i = 0; i < current.size(); i++) {
            CompiledRule r = current.get(i);
            PerRule p = rules.get(r.id());
            if (p == null) {
                p = new PerRule(r);
                rules.put(r.id(), p);
                changed = true;
            } else if (p.restored && p.version == r.version()) {
                p.reset(r); // windows for the journaled status
                p.restored = false;
            } else if (p.version != r.version()) {
                p.reset(r);
                p.restored = false;
                changed = true;
                if (p.status == Status.PENDING) {
                    p.status = Status.INACTIVE;
                    out.add(new Transition(r.id(), r.version(), Kind.RESET, at, p.since, Map.of()));
                }
            }
            aligned[i] = p;
        }
    }

    private void advance(List<CompiledRule> rules, long now, List<Output> out) {
        List<Transition> due = null;
        PerRule[] state = aligned; // sync(rules) ran first
        for (int i = 0; i < state.length; i++) {
            CompiledRule r = rules.get(i);
            PerRule p = state[i];
            long d = deadline(r, p);
            if (d <= now) {
                long since = r.absence() ? lastTs : p.since;
                p.status = Status.ACTIVE;
                p.since = since;
                if (due == null) {
                    due = new ArrayList<>();
                }
                due.add(new Transition(r.id(), r.version(), Kind.RAISED, d, since, r.absence() ? Map.of() : p.trigger));
            }
        }
        if (due != null) {
            due.sort(java.util.Comparator.comparingLong(Transition::at)); // stable: rule order within one instant
            out.addAll(due);
            changed = true;
        }
    }

    private void evaluate(CompiledRule r, PerRule p, Scope scope, long ts, Map<String, Object> values, boolean derived,
            List<Output> out) {
        Status before = p.status;
        long since = p.since;
        evaluateRule(r, p, scope, ts, values, derived, out);
        if (p.status != before || p.since != since) {
            changed = true;
        }
    }

    private void evaluateRule(CompiledRule r, PerRule p, Scope scope, long ts, Map<String, Object> values,
            boolean derived, List<Output> out) {
        if (r.absence()) {
            if (p.status == Status.ACTIVE) {
                p.status = Status.INACTIVE;
                out.add(new Transition(r.id(), r.version(), Kind.CLEARED, ts, p.since, values));
            }
            return;
        }
        Object holds = r.condition() == null ? Boolean.TRUE : r.condition().root().eval(scope);
        if (!derived && Boolean.TRUE.equals(holds)) {
            for (CompiledRule.CompiledAction a : r.actions()) {
                if (a.expression() != null) {
                    Object v = a.expression().root().eval(scope);
                    if (v != null) {
                        out.add(new Derived(r.id(), r.version(), a.action().key(), v, ts));
                    }
                }
            }
        }
        if (r.condition() == null) {
            return; // derive-only
        }
        switch (p.status) {
            case INACTIVE:
                if (Boolean.TRUE.equals(holds)) {
                    p.since = ts;
                    p.trigger = values;
                    if (r.holdMillis() == 0) {
                        p.status = Status.ACTIVE;
                        out.add(new Transition(r.id(), r.version(), Kind.RAISED, ts, ts, values));
                    } else {
                        p.status = Status.PENDING;
                        out.add(new Transition(r.id(), r.version(), Kind.PENDING, ts, ts, values));
                    }
                }
                break;
            case PENDING:
                if (Boolean.FALSE.equals(holds)) {
                    p.status = Status.INACTIVE;
                    out.add(new Transition(r.id(), r.version(), Kind.RESET, ts, p.since, values));
                }
                break;
            case ACTIVE: {
                boolean clear;
                if (r.clearCondition() != null) {
                    clear = Boolean.TRUE.equals(r.clearCondition().root().eval(scope));
                } else {
                    clear = Boolean.FALSE.equals(holds);
                }
                if (clear) {
                    p.status = Status.INACTIVE;
                    out.add(new Transition(r.id(), r.version(), Kind.CLEARED, ts, p.since, values));
                }
                break;
            }
            default:
                break;
        }
    }

    private void remember(Map<String, Object> values, long ts) {
        values.forEach((k, v) -> {
            if (v != null) {
                latest.put(k, new Latest(v, ts));
            }
        });
        Iterator<String> it = latest.keySet().iterator();
        while (latest.size() > limits.maxKeysTracked() && it.hasNext()) {
            it.next();
            it.remove();
        }
    }

    /** The scope of one message for one rule at a time (its windows). */
    private final class Scope implements Expr.Scope {
        private final Facts facts;
        private final Map<String, Object> values;
        private final long ts;
        private final boolean late;
        PerRule rule;

        Scope(Facts facts, Map<String, Object> values, long ts, boolean late) {
            this.facts = facts;
            this.values = values;
            this.ts = ts;
            this.late = late;
        }

        @Override
        public Object value(String key) {
            return values.get(key);
        }

        @Override
        public Object prev(String key) {
            if (late) {
                return null;
            }
            Latest l = latest.get(key);
            return l == null ? null : l.value();
        }

        @Override
        public Double prevAgeSeconds(String key) {
            if (late) {
                return null;
            }
            Latest l = latest.get(key);
            return l == null ? null : (ts - l.ts()) / 1000.0;
        }

        @Override
        public Object device(Expr.Root root, String path) {
            return switch (root) {
                case DEVICE -> switch (path) {
                    case "type" -> facts.type();
                    case "name" -> facts.name();
                    case "deviceId" -> facts.deviceId();
                    default -> null;
                };
                case REPORTED -> at(facts.reported(), path);
                case DESIRED -> at(facts.desired(), path);
                case ATTRIBUTES -> at(facts.attributes(), path);
                default -> null;
            };
        }

        @Override
        public boolean hasLabel(String label) {
            return facts.labels() != null && facts.labels().contains(label);
        }

        @Override
        public Object aggregate(int slot) {
            return slot < rule.windows.length ? rule.windows[slot].value(ts) : null;
        }
    }

    /** A JSON path's scalar value: numbers as Double, text, booleans; anything else is unknown. */
    static Object at(ObjectNode doc, String path) {
        if (doc == null) {
            return null;
        }
        JsonNode n = doc;
        int start = 0;
        while (n != null && start <= path.length()) {
            int dot = path.indexOf('.', start);
            String part = dot < 0 ? path.substring(start) : path.substring(start, dot);
            n = n.get(part);
            if (dot < 0) {
                break;
            }
            start = dot + 1;
        }
        if (n == null) {
            return null;
        } else if (n.isNumber()) {
            return n.doubleValue();
        } else if (n.isTextual()) {
            return n.textValue();
        } else if (n.isBoolean()) {
            return n.booleanValue();
        }
        return null;
    }

    /**
     * One window aggregate: the values it took per message time (a repeat of a time replaces, never adds). Points are
     * kept in time order in primitive arrays (messages mostly arrive in order, so an add is an append; a late one is
     * a binary search and a shift), and an aggregate walks its range in time order, so the result does not depend on
     * the order the points arrived in (the backtest reads them sorted; the live owner gets them as delivered).
     */
    static final class Window {
        private static final byte NUMBER = 1;
        private static final byte NOT_FALSE = 2;

        final Expr.Windowed spec;
        private long[] times = new long[8];
        private double[] numbers = new double[8];
        private byte[] kinds = new byte[8];
        /** The live points are [start, end) of the arrays. */
        private int start;
        private int end;

        Window(Expr.Windowed spec) {
            this.spec = spec;
        }

        private long span() {
            return spec.tumbling() ? 2 * spec.windowMillis() : spec.windowMillis();
        }

        int size() {
            return end - start;
        }

        void add(long ts, Object v, long newest, int max) {
            long horizon = newest - span();
            if (ts <= horizon) {
                return; // older than anything the window can still show
            }
            int i = firstAfter(ts - 1); // first point at or after ts
            boolean present = i < end && times[i] == ts;
            if (v == null) {
                if (present) {
                    System.arraycopy(times, i + 1, times, i, end - i - 1);
                    System.arraycopy(numbers, i + 1, numbers, i, end - i - 1);
                    System.arraycopy(kinds, i + 1, kinds, i, end - i - 1);
                    end--;
                }
            } else {
                if (!present) {
                    i = insertAt(i);
                    times[i] = ts;
                }
                byte kind = Boolean.FALSE.equals(v) ? 0 : NOT_FALSE;
                if (v instanceof Double d) {
                    numbers[i] = d;
                    kind |= NUMBER;
                }
                kinds[i] = kind;
            }
            start = firstAfter(horizon);
            if (end - start > max) {
                start = end - max;
            }
        }

        /** Makes room at index {@code i} (shifting the later points), returns where the new point goes. */
        private int insertAt(int i) {
            if (end == times.length) {
                if (start > 0) { // compact: the evicted prefix makes room
                    int n = end - start;
                    System.arraycopy(times, start, times, 0, n);
                    System.arraycopy(numbers, start, numbers, 0, n);
                    System.arraycopy(kinds, start, kinds, 0, n);
                    i -= start;
                    start = 0;
                    end = n;
                }
                if (end == times.length) {
                    int cap = times.length * 2;
                    times = java.util.Arrays.copyOf(times, cap);
                    numbers = java.util.Arrays.copyOf(numbers, cap);
                    kinds = java.util.Arrays.copyOf(kinds, cap);
                }
            }
            if (i < end) {
                System.arraycopy(times, i, times, i + 1, end - i);
                System.arraycopy(numbers, i, numbers, i + 1, end - i);
                System.arraycopy(kinds, i, kinds, i + 1, end - i);
            }
            end++;
            return i;
        }

        /** The index of the first live point with a time after {@code t} ({@code end} if none). */
        private int firstAfter(long t) {
            if (end == start || times[end - 1] <= t) {
                return end;
            }
            int lo = start;
            int hi = end - 1;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (times[mid] > t) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            return lo;
        }

        Object value(long at) {
            long w = spec.windowMillis();
            int from;
            int to;
            if (spec.tumbling()) {
                long windowEnd = Math.floorDiv(at, w) * w; // [windowEnd - w, windowEnd)
                from = firstAfter(windowEnd - w - 1);
                to = firstAfter(windowEnd - 1);
            } else { // (at - w, at]
                from = firstAfter(at - w);
                to = firstAfter(at);
            }
            if (spec.aggregate() == Expr.Aggregate.COUNT) {
                long c = 0;
                for (int i = from; i < to; i++) {
                    if ((kinds[i] & NOT_FALSE) != 0) {
                        c++;
                    }
                }
                return (double) c;
            }
            double sum = 0;
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            int n = 0;
            for (int i = from; i < to; i++) {
                if ((kinds[i] & NUMBER) != 0) {
                    double d = numbers[i];
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

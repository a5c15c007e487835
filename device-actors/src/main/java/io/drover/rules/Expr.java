package io.drover.rules;

import java.util.List;

/**
 * A parsed rule expression (docs/rules.md has the language). Evaluation is pure: {@link #eval} reads only
 * the {@link Scope} it is given and returns a Double, String, Boolean or {@code null} (unknown: a key the
 * message does not carry, a type mismatch, a division by zero). Comparisons and arithmetic with an unknown
 * operand are unknown; {@code &&}/{@code ||} follow three-valued logic, so {@code false && unknown} is false.
 */
public sealed interface Expr {

    Object eval(Scope scope);

    /** The sub-expressions: operands, arguments, a window's argument. */
    default List<Expr> children() {
        return List.of();
    }

    /** Whether {@code test} holds for {@code e} or any expression inside it. */
    static boolean any(Expr e, java.util.function.Predicate<Expr> test) {
        if (test.test(e)) {
            return true;
        }
        for (Expr c : e.children()) {
            if (any(c, test)) {
                return true;
            }
        }
        return false;
    }

    /** Visits {@code e} and every expression inside it. */
    static void walk(Expr e, java.util.function.Consumer<Expr> visit) {
        visit.accept(e);
        for (Expr c : e.children()) {
            walk(c, visit);
        }
    }

    /** Where an operand is read from. */
    enum Root {
        /** The message's values (a bare name, or {@code values.name} for a key that is also a root's name). */
        VALUES,
        /** The previous value of a key for this device ({@code prev.temperature}). */
        PREV,
        REPORTED, DESIRED, ATTRIBUTES,
        /** {@code type}, {@code name}, {@code deviceId}. */
        DEVICE
    }

    /** What an expression can see; implemented by the engine for one sample of one device. */
    interface Scope {
        /** A value of the current message, or null. */
        Object value(String key);

        /** The newest value of {@code key} before the current message (in time order), or null. */
        Object prev(String key);

        /** Seconds between the current message and the one {@link #prev} came from, or null. */
        Double prevAgeSeconds(String key);

        /** {@code type}, {@code name}, {@code deviceId}, a reported/desired/attribute path; null when absent. */
        Object device(Root root, String path);

        boolean hasLabel(String label);

        /** The current value of the window aggregate numbered {@code slot} (the engine keeps windows). */
        Object aggregate(int slot);
    }

    record Literal(Object value) implements Expr {
        @Override
        public Object eval(Scope s) {
            return value;
        }
    }

    record Ref(Root root, String path, int position) implements Expr {
        @Override
        public Object eval(Scope s) {
            return switch (root) {
                case VALUES -> s.value(path);
                case PREV -> s.prev(path);
                default -> s.device(root, path);
            };
        }
    }

    record Not(Expr operand) implements Expr {
        @Override
        public List<Expr> children() {
            return List.of(operand);
        }

        @Override
        public Object eval(Scope s) {
            Object v = operand.eval(s);
            return v instanceof Boolean b ? !b : null;
        }
    }

    record Negate(Expr operand) implements Expr {
        @Override
        public List<Expr> children() {
            return List.of(operand);
        }

        @Override
        public Object eval(Scope s) {
            Object v = operand.eval(s);
            return v instanceof Double d ? -d : null;
        }
    }

    enum Op {
        OR("||"), AND("&&"), EQ("=="), NE("!="), LT("<"), LE("<="), GT(">"), GE(">="), ADD("+"), SUB("-"), MUL("*"),
        DIV("/"), MOD("%");

        final String symbol;

        Op(String symbol) {
            this.symbol = symbol;
        }
    }

    record Binary(Op op, Expr left, Expr right) implements Expr {
        @Override
        public List<Expr> children() {
            return List.of(left, right);
        }

        @Override
        public Object eval(Scope s) {
            if (op == Op.AND || op == Op.OR) {
                return logic(s);
            }
            Object a = left.eval(s);
            Object b = right.eval(s);
            if (a == null || b == null) {
                return null;
            }
            switch (op) {
                case EQ:
                    return equal(a, b);
                case NE: {
                    Boolean eq = equal(a, b);
                    return eq == null ? null : !eq;
                }
                default:
                    break;
            }
            if (a instanceof Double x && b instanceof Double y) {
                return switch (op) {
                    case LT -> x < y;
                    case LE -> x <= y;
                    case GT -> x > y;
                    case GE -> x >= y;
                    case ADD -> x + y;
                    case SUB -> x - y;
                    case MUL -> x * y;
                    case DIV -> y == 0 ? null : x / y;
                    case MOD -> y == 0 ? null : x % y;
                    default -> null;
                };
            }
            if (a instanceof String x && b instanceof String y) {
                int c = x.compareTo(y);
                return switch (op) {
                    case LT -> c < 0;
                    case LE -> c <= 0;
                    case GT -> c > 0;
                    case GE -> c >= 0;
                    case ADD -> x + y;
                    default -> null;
                };
            }
            return null;
        }

        private Object logic(Scope s) {
            Object a = left.eval(s);
            boolean and = op == Op.AND;
            if (a instanceof Boolean x && x != and) {
                return x; // false && … = false, true || … = true, whatever the right side is
            }
            Object b = right.eval(s);
            if (b instanceof Boolean y && y != and) {
                return y;
            }
            if (a instanceof Boolean && b instanceof Boolean) {
                return and;
            }
            return null;
        }

        private static Boolean equal(Object a, Object b) {
            if (a.getClass() != b.getClass()) {
                return null;
            }
            return a.equals(b);
        }
    }

    enum Fn {
        ABS, MIN, MAX, ROUND
    }

    /** {@code abs(x)}, {@code min(a, b, …)}, {@code max(a, b, …)}, {@code round(x)} / {@code round(x, digits)}. */
    record Call(Fn fn, List<Expr> args) implements Expr {
        @Override
        public List<Expr> children() {
            return args;
        }

        @Override
        public Object eval(Scope s) {
            double[] v = new double[args.size()];
            for (int i = 0; i < v.length; i++) {
                if (!(args.get(i).eval(s) instanceof Double d)) {
                    return null;
                }
                v[i] = d;
            }
            return switch (fn) {
                case ABS -> Math.abs(v[0]);
                case MIN -> {
                    double m = v[0];
                    for (double x : v) {
                        m = Math.min(m, x);
                    }
                    yield m;
                }
                case MAX -> {
                    double m = v[0];
                    for (double x : v) {
                        m = Math.max(m, x);
                    }
                    yield m;
                }
                case ROUND -> {
                    if (v.length == 1) {
                        yield (double) Math.round(v[0]);
                    }
                    double scale = Math.pow(10, Math.max(0, Math.min(12, (int) v[1])));
                    yield Math.round(v[0] * scale) / scale;
                }
            };
        }
    }

    /** {@code exists(key)}: the current message carries the key (or the device has the path). */
    record Exists(Ref ref) implements Expr {
        @Override
        public List<Expr> children() {
            return List.of(ref);
        }

        @Override
        public Object eval(Scope s) {
            return ref.eval(s) != null;
        }
    }

    /** {@code hasLabel("x")}. */
    record HasLabel(String label) implements Expr {
        @Override
        public Object eval(Scope s) {
            return s.hasLabel(label);
        }
    }

    /** {@code rate(key)}: change per second since the previous value of the key; unknown without one. */
    record Rate(String key) implements Expr {
        @Override
        public Object eval(Scope s) {
            Double age = s.prevAgeSeconds(key);
            if (s.value(key) instanceof Double now && s.prev(key) instanceof Double before && age != null && age > 0) {
                return (now - before) / age;
            }
            return null;
        }
    }

    enum Aggregate {
        AVG, MIN, MAX, SUM, COUNT
    }

    /**
     * A window aggregate over the values {@code of} takes per message: {@code avg(temperature, 1m)} (sliding:
     * the messages of the last minute up to the current one) or {@code avg(temperature, 1m, tumbling)} (the
     * last complete minute of the clock). {@code count} counts the messages where {@code of} is known and
     * not false, so {@code count(temperature > 80, 5m) >= 3} is "three times within five minutes".
     * {@code slot} numbers the aggregates of one rule; the engine keeps one window per slot.
     */
    record Windowed(Aggregate aggregate, Expr of, long windowMillis, boolean tumbling, int slot) implements Expr {
        @Override
        public List<Expr> children() {
            return List.of(of);
        }

        @Override
        public Object eval(Scope s) {
            return s.aggregate(slot);
        }
    }
}

package io.drover.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExprParserTest {

    /** A scope over plain maps (no windows). */
    static final class MapScope implements Expr.Scope {
        final Map<String, Object> values = new HashMap<>();
        final Map<String, Object> prev = new HashMap<>();
        Double age;
        ObjectNode reported = new ObjectMapper().createObjectNode();
        String type;
        List<String> labels = List.of();

        MapScope with(String k, Object v) {
            values.put(k, v);
            return this;
        }

        @Override
        public Object value(String key) {
            return values.get(key);
        }

        @Override
        public Object prev(String key) {
            return prev.get(key);
        }

        @Override
        public Double prevAgeSeconds(String key) {
            return prev.containsKey(key) ? age : null;
        }

        @Override
        public Object device(Expr.Root root, String path) {
            if (root == Expr.Root.DEVICE && path.equals("type")) {
                return type;
            }
            return root == Expr.Root.REPORTED ? RuleRuntime.at(reported, path) : null;
        }

        @Override
        public boolean hasLabel(String label) {
            return labels.contains(label);
        }

        @Override
        public Object aggregate(int slot) {
            return null;
        }
    }

    private static Object eval(String src, MapScope s) {
        return ExprParser.parse(src).root().eval(s);
    }

    private static RuleSyntaxException error(String src) {
        return assertThrows(RuleSyntaxException.class, () -> ExprParser.parse(src));
    }

    @Test
    void precedenceAndArithmetic() {
        MapScope s = new MapScope().with("a", 2.0).with("b", 3.0);
        assertEquals(14.0, eval("a + b * 4", s));
        assertEquals(20.0, eval("(a + b) * 4", s));
        assertEquals(-1.0, eval("a - b", s));
        assertEquals(1.0, eval("b % a", s));
        assertEquals(true, eval("a < b && b <= 3 || false", s));
        assertEquals(true, eval("not a > b", s));
        assertEquals(true, eval("!(a > b) and a == 2", s));
        assertEquals(-2.0, eval("-a", s));
        assertEquals(1.0e3, eval("1e3", s));
        assertEquals(0.5, eval(".5", s));
    }

    @Test
    void functions() {
        MapScope s = new MapScope().with("t", -81.26);
        assertEquals(81.26, eval("abs(t)", s));
        assertEquals(-81.0, eval("round(t)", s));
        assertEquals(-81.3, eval("round(t, 1)", s));
        assertEquals(-81.26, eval("min(t, 0, 5)", s));
        assertEquals(5.0, eval("max(t, 0, 5)", s));
        assertEquals(true, eval("exists(t)", s));
        assertEquals(false, eval("exists(humidity)", s));
    }

    @Test
    void unknownOperandsAreNeitherTrueNorFalse() {
        MapScope s = new MapScope().with("t", 90.0);
        assertNull(eval("humidity > 80", s), "a key the message does not carry is unknown");
        assertNull(eval("humidity <= 80", s));
        assertEquals(false, eval("humidity > 80 && t < 10", s), "false && unknown is false");
        assertEquals(true, eval("humidity > 80 || t > 10", s), "true || unknown is true");
        assertNull(eval("humidity > 80 && t > 10", s));
        assertNull(eval("t / 0", s), "division by zero is unknown");
        assertNull(eval("t > \"x\"", s), "comparing a number with a string is unknown");
        assertNull(eval("!humidity", s));
    }

    @Test
    void stringsBooleansAndDeviceOperands() {
        MapScope s = new MapScope().with("mode", "auto").with("door", true);
        s.type = "thermostat";
        s.labels = List.of("roof");
        s.reported.putObject("fan").put("speed", 3);
        assertEquals(true, eval("mode == \"auto\" && door == true", s));
        assertEquals(true, eval("mode != 'manual'", s));
        assertEquals(true, eval("type == \"thermostat\"", s));
        assertEquals(true, eval("hasLabel(\"roof\") && !hasLabel(\"cellar\")", s));
        assertEquals(true, eval("reported.fan.speed >= 3", s));
        assertNull(eval("reported.fan.missing > 1", s));
        assertEquals(true, eval("`mode` == \"auto\"", s));
    }

    @Test
    void previousValueAndRate() {
        MapScope s = new MapScope().with("t", 30.0);
        s.prev.put("t", 20.0);
        s.age = 5.0;
        assertEquals(10.0, eval("t - prev.t", s));
        assertEquals(2.0, eval("rate(t)", s));
        s.prev.clear();
        assertNull(eval("rate(t)", s), "no previous value: rate unknown");
    }

    @Test
    void windowsGetSlotsInOrder() {
        ExprParser.Parsed p = ExprParser.parse("avg(temperature, 1m) > 70 && count(t > 80, 5m, tumbling) >= 3");
        assertEquals(2, p.windows().size());
        assertEquals(Expr.Aggregate.AVG, p.windows().get(0).aggregate());
        assertEquals(60_000, p.windows().get(0).windowMillis());
        assertEquals(0, p.windows().get(0).slot());
        assertTrue(p.windows().get(1).tumbling());
        assertEquals(300_000, p.windows().get(1).windowMillis());
        assertEquals(1, ExprParser.parse("max(t, 30s)", 1).windows().get(0).slot());
    }

    @Test
    void errorsSayWhereAndWhatWasExpected() {
        RuleSyntaxException e = error("temperature > ");
        assertEquals(14, e.position());
        assertTrue(e.getMessage().contains("expected a number, a string, a key or a function call"), e.getMessage());
        assertTrue(e.getMessage().contains("end of the expression"), e.getMessage());

        e = error("temperature = 80");
        assertEquals(12, e.position());
        assertTrue(e.getMessage().contains("'=='"), e.getMessage());

        e = error("(a > 1");
        assertEquals(6, e.position());
        assertTrue(e.getMessage().contains("')'"), e.getMessage());

        e = error("a > 1 b");
        assertEquals(6, e.position());

        e = error("avg(t) > 1");
        assertEquals(5, e.position());
        assertTrue(e.getMessage().contains("window duration"), e.getMessage());

        e = error("avg(t, 5x) > 1");
        assertEquals(8, e.position());
        assertTrue(e.getMessage().contains("duration unit"), e.getMessage());

        e = error("frobnicate(t)");
        assertEquals(0, e.position());
        assertTrue(e.getMessage().contains("unknown function 'frobnicate'"), e.getMessage());

        e = error("1 < a < 3");
        assertEquals(6, e.position());

        e = error("'open");
        assertEquals(0, e.position());

        e = error("a > 1 # comment");
        assertEquals(6, e.position());

        e = error("abs(a, b)");
        assertTrue(e.getMessage().contains("expected 1 argument"), e.getMessage());

        e = error("avg(avg(t, 1m), 5m) > 1");
        assertEquals(4, e.position());

        e = error("t > 5m");
        assertEquals(4, e.position());

        e = error("reported > 1");
        assertEquals(8, e.position());

        e = error("");
        assertEquals(0, e.position());
    }

    @Test
    void boundedInputs() {
        assertEquals(ExprParser.MAX_LENGTH, error("a".repeat(ExprParser.MAX_LENGTH + 1)).position());
        String deep = "(".repeat(ExprParser.MAX_DEPTH + 1) + "a" + ")".repeat(ExprParser.MAX_DEPTH + 1);
        assertTrue(error(deep).getMessage().contains("nested deeper"));
        StringBuilder many = new StringBuilder("avg(t, 1m) > 0");
        for (int i = 0; i < ExprParser.MAX_WINDOWS; i++) {
            many.append(" && sum(t, 1m) > 0");
        }
        assertTrue(error(many.toString()).getMessage().contains("window aggregates"));
    }
}

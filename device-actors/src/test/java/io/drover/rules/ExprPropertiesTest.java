package io.drover.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Random expressions, written out as text with random spacing and parsed back, evaluate like a reference
 * evaluator written from the language's rules (three-valued logic, unknown operands, division by zero).
 */
class ExprPropertiesTest {

    private record Gen(Random r) {
        String space() {
            return r.nextInt(3) == 0 ? "" : " ".repeat(1 + r.nextInt(2));
        }
    }

    /** Builds a random expression as text and returns its value under the reference rules. */
    private record Built(String text, Object value) {}

    private static final String[] NUM_OPS = {"+", "-", "*", "/"};
    private static final String[] CMP_OPS = {"<", "<=", ">", ">=", "==", "!="};

    private static Built number(Gen g, ExprParserTest.MapScope s, int depth) {
        int pick = depth <= 0 ? g.r().nextInt(2) : g.r().nextInt(5);
        switch (pick) {
            case 0: {
                double v = g.r().nextInt(21) - 10;
                return new Built(v < 0 ? "(" + v + ")" : String.valueOf(v), v);
            }
            case 1: {
                String key = "k" + g.r().nextInt(4);
                return new Built(key, s.values.get(key));
            }
            case 2: {
                Built a = number(g, s, depth - 1);
                return new Built("abs(" + g.space() + a.text + g.space() + ")",
                        a.value == null ? null : Math.abs((Double) a.value));
            }
            default: {
                Built a = number(g, s, depth - 1);
                Built b = number(g, s, depth - 1);
                String op = NUM_OPS[g.r().nextInt(NUM_OPS.length)];
                Object v;
                if (a.value == null || b.value == null) {
                    v = null;
                } else {
                    double x = (Double) a.value;
                    double y = (Double) b.value;
                    v = switch (op) {
                        case "+" -> x + y;
                        case "-" -> x - y;
                        case "*" -> x * y;
                        default -> y == 0 ? null : x / y;
                    };
                }
                return new Built("(" + a.text + g.space() + op + g.space() + b.text + ")", v);
            }
        }
    }

    private static Built bool(Gen g, ExprParserTest.MapScope s, int depth) {
        int pick = depth <= 0 ? 0 : g.r().nextInt(4);
        switch (pick) {
            case 0: {
                Built a = number(g, s, 2);
                Built b = number(g, s, 2);
                String op = CMP_OPS[g.r().nextInt(CMP_OPS.length)];
                Object v = null;
                if (a.value != null && b.value != null) {
                    int c = Double.compare((Double) a.value, (Double) b.value);
                    double x = (Double) a.value;
                    double y = (Double) b.value;
                    v = switch (op) {
                        case "<" -> x < y;
                        case "<=" -> x <= y;
                        case ">" -> x > y;
                        case ">=" -> x >= y;
                        case "==" -> c == 0;
                        default -> c != 0;
                    };
                }
                return new Built("(" + a.text + g.space() + op + g.space() + b.text + ")", v);
            }
            case 1: {
                Built a = bool(g, s, depth - 1);
                String not = g.r().nextBoolean() ? "!" : "not ";
                return new Built("(" + not + a.text + ")", a.value == null ? null : !(Boolean) a.value);
            }
            default: {
                Built a = bool(g, s, depth - 1);
                Built b = bool(g, s, depth - 1);
                boolean and = pick == 2;
                String op = and ? (g.r().nextBoolean() ? "&&" : "and") : (g.r().nextBoolean() ? "||" : "or");
                Object v;
                if (and) {
                    v = Boolean.FALSE.equals(a.value) || Boolean.FALSE.equals(b.value) ? Boolean.FALSE
                            : a.value == null || b.value == null ? null : Boolean.TRUE;
                } else {
                    v = Boolean.TRUE.equals(a.value) || Boolean.TRUE.equals(b.value) ? Boolean.TRUE
                            : a.value == null || b.value == null ? null : Boolean.FALSE;
                }
                return new Built("(" + a.text + " " + op + " " + b.text + ")", v);
            }
        }
    }

    @Property(tries = 500)
    void parsedTextEvaluatesLikeTheReference(@ForAll long seed) {
        Gen g = new Gen(new Random(seed));
        ExprParserTest.MapScope s = new ExprParserTest.MapScope();
        for (int i = 0; i < 4; i++) {
            if (g.r().nextInt(4) != 0) {
                s.with("k" + i, (double) (g.r().nextInt(11) - 5));
            }
        }
        Built b = bool(g, s, 3);
        assertEquals(b.value, ExprParser.parse(b.text).root().eval(s), b.text + " with " + s.values);
    }

    @Property(tries = 300)
    void garbageNeverThrowsAnythingButSyntaxErrors(@ForAll long seed) {
        Random r = new Random(seed);
        String alphabet = "ab1 .()<>=!&|+-*/,'\"`avg(t,1m)exists";
        StringBuilder sb = new StringBuilder();
        int n = 1 + r.nextInt(30);
        for (int i = 0; i < n; i++) {
            sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        try {
            ExprParser.parse(sb.toString());
        } catch (RuleSyntaxException e) {
            assertEquals(true, e.position() >= 0 && e.position() <= sb.length(), sb + " → " + e.position());
        }
    }
}

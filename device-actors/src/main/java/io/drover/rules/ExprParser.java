package io.drover.rules;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The parser of the rule language (docs/rules.md): a hand-written lexer and recursive-descent parser, no
 * script engine. Every error is a {@link RuleSyntaxException} with the character offset where the input
 * stopped making sense and what was expected there.
 *
 * <pre>
 * expr    := and (("||" | "or") and)*
 * and     := not (("&amp;&amp;" | "and") not)*
 * not     := ("!" | "not") not | compare
 * compare := sum (("==" | "!=" | "&lt;" | "&lt;=" | "&gt;" | "&gt;=") sum)?
 * sum     := product (("+" | "-") product)*
 * product := unary (("*" | "/" | "%") unary)*
 * unary   := "-" unary | primary
 * primary := number | string | true | false | null | "(" expr ")" | name "(" args ")" | key
 * key     := name ("." name)* | `any text`
 * </pre>
 */
public final class ExprParser {

    /** Longest expression accepted, in characters. */
    public static final int MAX_LENGTH = 2000;
    /** Deepest nesting accepted (parentheses, operators). */
    public static final int MAX_DEPTH = 64;
    /** Window aggregates one expression may use. */
    public static final int MAX_WINDOWS = 8;

    /** A parsed expression and the window aggregates it uses, in slot order. */
    public record Parsed(String source, Expr root, List<Expr.Windowed> windows) {}

    private enum T {
        NUM, DURATION, STR, NAME, QUOTED, OP, LPAREN, RPAREN, COMMA, END
    }

    private record Token(T type, String text, int pos, double number) {}

    private static final Map<String, Expr.Root> ROOTS = Map.of("values", Expr.Root.VALUES, "prev", Expr.Root.PREV,
            "reported", Expr.Root.REPORTED, "desired", Expr.Root.DESIRED, "attributes", Expr.Root.ATTRIBUTES);

    private final String src;
    private final List<Token> tokens;
    private final List<Expr.Windowed> windows = new ArrayList<>();
    private int at;
    private int depth;
    private int slotOffset;

    private ExprParser(String src, int slotOffset) {
        this.src = src;
        this.slotOffset = slotOffset;
        this.tokens = lex(src);
    }

    public static Parsed parse(String src) {
        return parse(src, 0);
    }

    /** Parses with window slots numbered from {@code firstSlot} (a rule's condition and clear condition share slots). */
    public static Parsed parse(String src, int firstSlot) {
        if (src == null || src.isBlank()) {
            throw new RuleSyntaxException(0, "expected an expression but the text is empty");
        }
        if (src.length() > MAX_LENGTH) {
            throw new RuleSyntaxException(MAX_LENGTH, "expression longer than " + MAX_LENGTH + " characters");
        }
        ExprParser p = new ExprParser(src, firstSlot);
        Expr root = p.or();
        Token end = p.peek();
        if (end.type != T.END) {
            throw new RuleSyntaxException(end.pos, "expected an operator or the end of the expression but found "
                    + describe(end));
        }
        return new Parsed(src, root, List.copyOf(p.windows));
    }

    // ---------------------------------------------------------------- lexer

    private static List<Token> lex(String s) {
        List<Token> out = new ArrayList<>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (Character.isDigit(c) || (c == '.' && i + 1 < n && Character.isDigit(s.charAt(i + 1)))) {
                int start = i;
                while (i < n && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
                    i++;
                }
                if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E') && i + 1 < n
                        && (Character.isDigit(s.charAt(i + 1)) || ((s.charAt(i + 1) == '-' || s.charAt(i + 1) == '+')
                                && i + 2 < n && Character.isDigit(s.charAt(i + 2))))) {
                    i += 2;
                    while (i < n && Character.isDigit(s.charAt(i))) {
                        i++;
                    }
                }
                String num = s.substring(start, i);
                double value;
                try {
                    value = Double.parseDouble(num);
                } catch (NumberFormatException e) {
                    throw new RuleSyntaxException(start, "expected a number but found '" + num + "'");
                }
                if (i < n && Character.isLetter(s.charAt(i))) {
                    int u = i;
                    while (i < n && Character.isLetter(s.charAt(i))) {
                        i++;
                    }
                    String unit = s.substring(u, i);
                    long factor = switch (unit) {
                        case "ms" -> 1L;
                        case "s" -> 1000L;
                        case "m" -> 60_000L;
                        case "h" -> 3_600_000L;
                        case "d" -> 86_400_000L;
                        default -> throw new RuleSyntaxException(u,
                                "expected a duration unit (ms, s, m, h or d) but found '" + unit + "'");
                    };
                    out.add(new Token(T.DURATION, s.substring(start, i), start, value * factor));
                } else {
                    out.add(new Token(T.NUM, num, start, value));
                }
            } else if (Character.isLetter(c) || c == '_') {
                int start = i;
                while (i < n && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_' || s.charAt(i) == '.')) {
                    i++;
                }
                String name = s.substring(start, i);
                if (name.endsWith(".") || name.contains("..")) {
                    throw new RuleSyntaxException(start + name.length() - 1, "expected a name after '.'");
                }
                out.add(new Token(T.NAME, name, start, 0));
            } else if (c == '`') {
                int end = s.indexOf('`', i + 1);
                if (end < 0) {
                    throw new RuleSyntaxException(i, "expected a closing ` for the quoted key");
                }
                if (end == i + 1) {
                    throw new RuleSyntaxException(i, "expected a key between the backquotes");
                }
                out.add(new Token(T.QUOTED, s.substring(i + 1, end), i, 0));
                i = end + 1;
            } else if (c == '"' || c == '\'') {
                int start = i;
                StringBuilder b = new StringBuilder();
                i++;
                while (true) {
                    if (i >= n) {
                        throw new RuleSyntaxException(start, "expected a closing " + c + " for the string");
                    }
                    char d = s.charAt(i);
                    if (d == '\\' && i + 1 < n) {
                        b.append(s.charAt(i + 1));
                        i += 2;
                    } else if (d == c) {
                        i++;
                        break;
                    } else {
                        b.append(d);
                        i++;
                    }
                }
                out.add(new Token(T.STR, b.toString(), start, 0));
            } else if (c == '(') {
                out.add(new Token(T.LPAREN, "(", i++, 0));
            } else if (c == ')') {
                out.add(new Token(T.RPAREN, ")", i++, 0));
            } else if (c == ',') {
                out.add(new Token(T.COMMA, ",", i++, 0));
            } else {
                String two = i + 1 < n ? s.substring(i, i + 2) : "";
                if (two.equals("&&") || two.equals("||") || two.equals("==") || two.equals("!=") || two.equals("<=")
                        || two.equals(">=")) {
                    out.add(new Token(T.OP, two, i, 0));
                    i += 2;
                } else if ("<>+-*/%!".indexOf(c) >= 0) {
                    out.add(new Token(T.OP, String.valueOf(c), i++, 0));
                } else if (c == '=') {
                    throw new RuleSyntaxException(i, "expected '==' for equality but found '='");
                } else {
                    throw new RuleSyntaxException(i, "unexpected character '" + c + "'");
                }
            }
        }
        out.add(new Token(T.END, "", n, 0));
        return out;
    }

    // ---------------------------------------------------------------- parser

    private Token peek() {
        return tokens.get(at);
    }

    private Token next() {
        return tokens.get(at++);
    }

    private boolean isOp(String... ops) {
        Token t = peek();
        for (String op : ops) {
            if ((t.type == T.OP && t.text.equals(op)) || (t.type == T.NAME && t.text.equals(op))) {
                return true;
            }
        }
        return false;
    }

    private void enter() {
        if (++depth > MAX_DEPTH) {
            throw new RuleSyntaxException(peek().pos, "expression nested deeper than " + MAX_DEPTH + " levels");
        }
    }

    private Expr or() {
        enter();
        Expr left = and();
        while (isOp("||", "or")) {
            next();
            left = new Expr.Binary(Expr.Op.OR, left, and());
        }
        depth--;
        return left;
    }

    private Expr and() {
        Expr left = not();
        while (isOp("&&", "and")) {
            next();
            left = new Expr.Binary(Expr.Op.AND, left, not());
        }
        return left;
    }

    private Expr not() {
        if (isOp("!", "not")) {
            next();
            enter();
            Expr e = new Expr.Not(not());
            depth--;
            return e;
        }
        return compare();
    }

    private Expr compare() {
        Expr left = sum();
        Token t = peek();
        if (t.type == T.OP) {
            Expr.Op op = switch (t.text) {
                case "==" -> Expr.Op.EQ;
                case "!=" -> Expr.Op.NE;
                case "<" -> Expr.Op.LT;
                case "<=" -> Expr.Op.LE;
                case ">" -> Expr.Op.GT;
                case ">=" -> Expr.Op.GE;
                default -> null;
            };
            if (op != null) {
                next();
                Expr right = sum();
                Token after = peek();
                if (after.type == T.OP && List.of("==", "!=", "<", "<=", ">", ">=").contains(after.text)) {
                    throw new RuleSyntaxException(after.pos,
                            "expected '&&', '||' or ')' but found a second comparison '" + after.text
                                    + "' (write a < b && b < c)");
                }
                return new Expr.Binary(op, left, right);
            }
        }
        return left;
    }

    private Expr sum() {
        Expr left = product();
        while (isOp("+", "-")) {
            Expr.Op op = next().text.equals("+") ? Expr.Op.ADD : Expr.Op.SUB;
            left = new Expr.Binary(op, left, product());
        }
        return left;
    }

    private Expr product() {
        Expr left = unary();
        while (isOp("*", "/", "%")) {
            String s = next().text;
            Expr.Op op = s.equals("*") ? Expr.Op.MUL : s.equals("/") ? Expr.Op.DIV : Expr.Op.MOD;
            left = new Expr.Binary(op, left, unary());
        }
        return left;
    }

    private Expr unary() {
        if (isOp("-")) {
            next();
            enter();
            Expr operand = unary();
            depth--;
            if (operand instanceof Expr.Literal l && l.value() instanceof Double d) {
                return new Expr.Literal(-d);
            }
            return new Expr.Negate(operand);
        }
        return primary();
    }

    private Expr primary() {
        Token t = next();
        switch (t.type) {
            case NUM:
                return new Expr.Literal(t.number);
            case STR:
                return new Expr.Literal(t.text);
            case QUOTED:
                return new Expr.Ref(Expr.Root.VALUES, t.text, t.pos);
            case DURATION:
                throw new RuleSyntaxException(t.pos, "a duration (" + t.text
                        + ") is only allowed as the window of avg, min, max, sum or count");
            case LPAREN: {
                Expr e = or();
                expect(T.RPAREN, "')'");
                return e;
            }
            case NAME:
                if (peek().type == T.LPAREN) {
                    return call(t);
                }
                return name(t);
            default:
                throw new RuleSyntaxException(t.pos,
                        "expected a number, a string, a key or a function call but found " + describe(t));
        }
    }

    private Expr name(Token t) {
        switch (t.text) {
            case "true":
                return new Expr.Literal(Boolean.TRUE);
            case "false":
                return new Expr.Literal(Boolean.FALSE);
            case "null":
                return new Expr.Literal(null);
            case "and", "or", "not":
                throw new RuleSyntaxException(t.pos, "expected an operand but found the operator '" + t.text + "'");
            case "type", "name", "deviceId":
                return new Expr.Ref(Expr.Root.DEVICE, t.text, t.pos);
            default:
                break;
        }
        int dot = t.text.indexOf('.');
        if (dot > 0) {
            Expr.Root root = ROOTS.get(t.text.substring(0, dot));
            if (root != null) {
                return new Expr.Ref(root, t.text.substring(dot + 1), t.pos);
            }
        } else if (ROOTS.containsKey(t.text)) {
            throw new RuleSyntaxException(t.pos + t.text.length(), "expected '.' and a key after '" + t.text + "'");
        }
        return new Expr.Ref(Expr.Root.VALUES, t.text, t.pos);
    }

    private Expr call(Token fn) {
        next(); // (
        List<Expr> args = new ArrayList<>();
        List<Token> argTokens = new ArrayList<>();
        if (peek().type != T.RPAREN) {
            do {
                argTokens.add(peek());
                if (peek().type == T.DURATION) {
                    Token d = next();
                    args.add(new Expr.Literal(new WindowArg(d.text, (long) d.number)));
                } else if (peek().type == T.NAME && (peek().text.equals("tumbling") || peek().text.equals("sliding"))
                        && !args.isEmpty() && args.get(args.size() - 1) instanceof Expr.Literal l
                        && l.value() instanceof WindowArg) {
                    args.add(new Expr.Literal(new WindowKind(next().text.equals("tumbling"))));
                } else {
                    args.add(or());
                }
            } while (accept(T.COMMA));
        }
        Token close = peek();
        expect(T.RPAREN, "',' or ')'");
        String name = fn.text;
        switch (name) {
            case "abs":
                arity(fn, args, 1, 1, close);
                return new Expr.Call(Expr.Fn.ABS, plain(args, argTokens));
            case "round":
                arity(fn, args, 1, 2, close);
                return new Expr.Call(Expr.Fn.ROUND, plain(args, argTokens));
            case "exists":
                arity(fn, args, 1, 1, close);
                if (!(args.get(0) instanceof Expr.Ref ref)) {
                    throw new RuleSyntaxException(argTokens.get(0).pos, "expected a key as the argument of exists");
                }
                return new Expr.Exists(ref);
            case "hasLabel":
                arity(fn, args, 1, 1, close);
                if (!(args.get(0) instanceof Expr.Literal l && l.value() instanceof String label)) {
                    throw new RuleSyntaxException(argTokens.get(0).pos, "expected a string as the label of hasLabel");
                }
                return new Expr.HasLabel(label);
            case "rate":
                arity(fn, args, 1, 1, close);
                if (!(args.get(0) instanceof Expr.Ref ref && ref.root() == Expr.Root.VALUES)) {
                    throw new RuleSyntaxException(argTokens.get(0).pos, "expected a telemetry key as the argument of rate");
                }
                return new Expr.Rate(ref.path());
            case "min", "max":
                if (args.size() >= 2 && isWindow(args.get(1))) {
                    return windowed(fn, args, argTokens, close);
                }
                if (args.size() < 2) {
                    throw new RuleSyntaxException(close.pos, "expected at least two arguments, or a key and a window, for "
                            + name);
                }
                return new Expr.Call(name.equals("min") ? Expr.Fn.MIN : Expr.Fn.MAX, plain(args, argTokens));
            case "avg", "sum", "count":
                return windowed(fn, args, argTokens, close);
            default:
                throw new RuleSyntaxException(fn.pos, "unknown function '" + name
                        + "' (expected abs, min, max, round, exists, hasLabel, rate, avg, sum or count)");
        }
    }

    private record WindowArg(String text, long millis) {}

    private record WindowKind(boolean tumbling) {}

    private static boolean isWindow(Expr e) {
        return e instanceof Expr.Literal l && l.value() instanceof WindowArg;
    }

    private Expr windowed(Token fn, List<Expr> args, List<Token> argTokens, Token close) {
        if (args.size() < 2 || !isWindow(args.get(1))) {
            int pos = args.size() >= 2 ? argTokens.get(1).pos : close.pos;
            throw new RuleSyntaxException(pos, "expected a window duration such as 1m as the second argument of "
                    + fn.text);
        }
        if (args.size() > 3) {
            throw new RuleSyntaxException(argTokens.get(3).pos, "expected ')' after the window of " + fn.text);
        }
        boolean tumbling = false;
        if (args.size() == 3) {
            if (!(args.get(2) instanceof Expr.Literal l && l.value() instanceof WindowKind k)) {
                throw new RuleSyntaxException(argTokens.get(2).pos, "expected tumbling or sliding after the window");
            }
            tumbling = k.tumbling();
        }
        Expr of = args.get(0);
        if (isWindow(of)) {
            throw new RuleSyntaxException(argTokens.get(0).pos, "expected a key or an expression before the window");
        }
        if (containsWindow(of)) {
            throw new RuleSyntaxException(argTokens.get(0).pos, "a window aggregate cannot contain another one");
        }
        long millis = ((WindowArg) ((Expr.Literal) args.get(1)).value()).millis();
        if (millis <= 0) {
            throw new RuleSyntaxException(argTokens.get(1).pos, "expected a window longer than zero");
        }
        if (windows.size() + slotOffset >= MAX_WINDOWS) {
            throw new RuleSyntaxException(fn.pos, "at most " + MAX_WINDOWS + " window aggregates per rule");
        }
        Expr.Aggregate agg = Expr.Aggregate.valueOf(fn.text.toUpperCase());
        Expr.Windowed w = new Expr.Windowed(agg, of, millis, tumbling, slotOffset + windows.size());
        windows.add(w);
        return w;
    }

    private static boolean containsWindow(Expr e) {
        return Expr.any(e, x -> x instanceof Expr.Windowed);
    }

    private static List<Expr> plain(List<Expr> args, List<Token> argTokens) {
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i) instanceof Expr.Literal l && (l.value() instanceof WindowArg || l.value() instanceof WindowKind)) {
                throw new RuleSyntaxException(argTokens.get(i).pos, "a window is only allowed in avg, min, max, sum or count");
            }
        }
        return List.copyOf(args);
    }

    private static void arity(Token fn, List<Expr> args, int min, int max, Token close) {
        if (args.size() < min || args.size() > max) {
            String want = min == max ? String.valueOf(min) : min + " or " + max;
            throw new RuleSyntaxException(args.size() < min ? close.pos : fn.pos,
                    "expected " + want + " argument" + (max == 1 ? "" : "s") + " for " + fn.text + " but found "
                            + args.size());
        }
    }

    private boolean accept(T type) {
        if (peek().type == type) {
            next();
            return true;
        }
        return false;
    }

    private void expect(T type, String what) {
        Token t = peek();
        if (t.type != type) {
            throw new RuleSyntaxException(t.pos, "expected " + what + " but found " + describe(t));
        }
        next();
    }

    private static String describe(Token t) {
        return t.type == T.END ? "the end of the expression" : "'" + t.text + "'";
    }
}

package io.drover.rules;

import io.drover.device.DeviceKey;
import java.net.URI;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one place that decides whether a {@link RuleDefinition} is a rule: every edge (REST create/update, the
 * backtest, templates) and the rule set entity call {@link #compile}. Failures are {@link RuleSyntaxException}s
 * naming the field and the character offset in it.
 */
public final class RuleCompiler {

    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h|d)");
    private static final Pattern ALARM_TYPE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_.\\-]{1,64}");
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}");
    private static final List<String> ACTION_TYPES =
            List.of("alarm", "command", "desired", "publish", "webhook", "log", "derive");

    private final RulesSettings limits;

    public RuleCompiler(RulesSettings limits) {
        this.limits = limits;
    }

    public CompiledRule compile(String id, int version, RuleDefinition d) {
        if (d == null) {
            throw new RuleSyntaxException("rule", 0, "expected a rule object");
        }
        if (d.name() == null || d.name().isBlank() || d.name().length() > 100) {
            throw new RuleSyntaxException("name", 0, "expected a name of 1 to 100 characters");
        }
        if (d.description() != null && d.description().length() > 1000) {
            throw new RuleSyntaxException("description", 1000, "expected a description of at most 1000 characters");
        }
        checkTrigger(d.trigger());
        long holdMs = duration("for", d.holdFor(), limits.maxFor());
        long noDataMs = duration("noDataFor", d.noDataFor(), limits.maxFor());
        List<RuleDefinition.Action> actions = d.actions() == null ? List.of() : d.actions();
        if (actions.isEmpty()) {
            throw new RuleSyntaxException("actions", 0, "expected at least one action");
        }
        if (actions.size() > limits.maxActions()) {
            throw new RuleSyntaxException("actions", 0, "expected at most " + limits.maxActions() + " actions");
        }
        boolean deriveOnly = actions.stream().allMatch(a -> "derive".equals(a.type()));
        ExprParser.Parsed condition = null;
        ExprParser.Parsed clear = null;
        if (noDataMs > 0) {
            if (d.condition() != null || d.clearCondition() != null || d.holdFor() != null) {
                throw new RuleSyntaxException("noDataFor", 0,
                        "expected either noDataFor (an absence rule) or condition/clearCondition/for, not both");
            }
        } else {
            if (d.condition() == null && !deriveOnly) {
                throw new RuleSyntaxException("condition", 0, "expected a condition (or noDataFor for an absence rule)");
            }
            condition = d.condition() == null ? null
                    : checkedWindows("condition", expression("condition", d.condition(), 0));
            if (d.clearCondition() != null) {
                clear = checkedWindows("clearCondition", expression("clearCondition", d.clearCondition(),
                        condition == null ? 0 : condition.windows().size()));
            }
        }
        List<Expr.Windowed> windows = new ArrayList<>();
        if (condition != null) {
            windows.addAll(condition.windows());
        }
        if (clear != null) {
            windows.addAll(clear.windows());
        }
        List<CompiledRule.CompiledAction> compiled = new ArrayList<>();
        int alarms = 0;
        for (int i = 0; i < actions.size(); i++) {
            CompiledRule.CompiledAction a = action("actions[" + i + "]", actions.get(i), windows.size());
            if (a.action().type().equals("alarm")) {
                alarms++;
            }
            windows.addAll(a.windows());
            compiled.add(a);
        }
        if (windows.size() > ExprParser.MAX_WINDOWS) {
            throw new RuleSyntaxException("actions", 0, "at most " + ExprParser.MAX_WINDOWS + " window aggregates per rule");
        }
        if (alarms > 1) {
            throw new RuleSyntaxException("actions", 0, "expected at most one alarm action per rule");
        }
        boolean facts = d.trigger() != null && (d.trigger().type() != null || d.trigger().labels() != null)
                || readsDevice(condition) || readsDevice(clear)
                || compiled.stream().anyMatch(a -> readsDevice(a.expression()));
        return new CompiledRule(id, version, d, condition, clear, holdMs, noDataMs, List.copyOf(windows),
                List.copyOf(compiled), facts);
    }

    /**
     * The telemetry keys a rule reads (values, previous values, rates, windows), or empty when any message matters to
     * it (absence rules, conditions that read no key): what a backtest needs to load.
     */
    public static java.util.Set<String> keysRead(CompiledRule r) {
        if (r.absence()) {
            return java.util.Set.of();
        }
        java.util.Set<String> keys = new java.util.TreeSet<>();
        collectKeys(r.condition() == null ? null : r.condition().root(), keys);
        collectKeys(r.clearCondition() == null ? null : r.clearCondition().root(), keys);
        for (CompiledRule.CompiledAction a : r.actions()) {
            collectKeys(a.expression() == null ? null : a.expression().root(), keys);
        }
        return keys;
    }

    private static void collectKeys(Expr e, java.util.Set<String> keys) {
        if (e == null) {
            return;
        }
        Expr.walk(e, x -> {
            if (x instanceof Expr.Ref ref && (ref.root() == Expr.Root.VALUES || ref.root() == Expr.Root.PREV)) {
                keys.add(ref.path());
            } else if (x instanceof Expr.Rate rate) {
                keys.add(rate.key());
            }
        });
    }

    private static boolean readsDevice(ExprParser.Parsed p) {
        return p != null && readsDevice(p.root());
    }

    private static boolean readsDevice(Expr e) {
        return Expr.any(e, x -> x instanceof Expr.HasLabel
                || x instanceof Expr.Ref r && r.root() != Expr.Root.VALUES && r.root() != Expr.Root.PREV);
    }


    private void checkTrigger(RuleDefinition.Trigger t) {
        if (t == null) {
            return;
        }
        if (t.deviceIds() != null) {
            if (t.deviceIds().size() > 1000) {
                throw new RuleSyntaxException("trigger.deviceIds", 0, "expected at most 1000 device ids");
            }
            for (String id : t.deviceIds()) {
                if (!DeviceKey.validDeviceId(id)) {
                    throw new RuleSyntaxException("trigger.deviceIds", 0, "expected device ids but found '" + id + "'");
                }
            }
        }
        if (t.type() != null && (t.type().isBlank() || t.type().length() > 64)) {
            throw new RuleSyntaxException("trigger.type", 0, "expected a device type of 1 to 64 characters");
        }
        if (t.labels() != null) {
            if (t.labels().size() > 32) {
                throw new RuleSyntaxException("trigger.labels", 0, "expected at most 32 labels");
            }
            for (String l : t.labels()) {
                if (l == null || !LABEL.matcher(l).matches()) {
                    throw new RuleSyntaxException("trigger.labels", 0, "expected labels but found '" + l + "'");
                }
            }
        }
    }

    private static ExprParser.Parsed expression(String field, String text, int firstSlot) {
        try {
            return ExprParser.parse(text, firstSlot);
        } catch (RuleSyntaxException e) {
            throw e.in(field);
        }
    }

    private ExprParser.Parsed checkedWindows(String field, ExprParser.Parsed p) {
        for (Expr.Windowed w : p.windows()) {
            if (w.windowMillis() > limits.maxWindow().toMillis()) {
                throw new RuleSyntaxException(field, 0, "expected windows of at most " + limits.maxWindow());
            }
        }
        return p;
    }

    private CompiledRule.CompiledAction action(String field, RuleDefinition.Action a, int firstSlot) {
        if (a == null || a.type() == null || !ACTION_TYPES.contains(a.type())) {
            throw new RuleSyntaxException(field + ".type", 0, "expected one of " + String.join(", ", ACTION_TYPES));
        }
        String on = a.on() == null ? "raise" : a.on();
        if (!on.equals("raise") && !on.equals("clear")) {
            throw new RuleSyntaxException(field + ".on", 0, "expected raise or clear");
        }
        ExprParser.Parsed expr = null;
        switch (a.type()) {
            case "alarm":
                if (a.alarmType() == null || !ALARM_TYPE.matcher(a.alarmType()).matches()) {
                    throw new RuleSyntaxException(field + ".alarmType", 0,
                            "expected an alarm type of letters, digits, '_', '.', '-' (at most 64)");
                }
                if (a.severity() != null && Severity.parse(a.severity()) == null) {
                    throw new RuleSyntaxException(field + ".severity", 0,
                            "expected critical, major, minor, warning or indeterminate");
                }
                if (a.details() != null && a.details().toString().length() > limits.maxAlarmDetailsBytes()) {
                    throw new RuleSyntaxException(field + ".details", 0,
                            "expected details of at most " + limits.maxAlarmDetailsBytes() + " bytes");
                }
                break;
            case "command":
                if (a.name() == null || !a.name().matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")) {
                    throw new RuleSyntaxException(field + ".name", 0, "expected a command name");
                }
                break;
            case "desired":
                if (a.values() == null || a.values().isEmpty()) {
                    throw new RuleSyntaxException(field + ".values", 0, "expected an object of desired values");
                }
                break;
            case "publish":
                if (a.payload() == null) {
                    throw new RuleSyntaxException(field + ".payload", 0, "expected a JSON object to publish");
                }
                if (a.payload().toString().length() > limits.maxAlarmDetailsBytes()) {
                    throw new RuleSyntaxException(field + ".payload", 0,
                            "expected a payload of at most " + limits.maxAlarmDetailsBytes() + " bytes");
                }
                break;
            case "webhook":
                checkUrl(field + ".url", a.url());
                if (a.secret() == null || a.secret().length() < 16 || a.secret().length() > 256) {
                    throw new RuleSyntaxException(field + ".secret", 0,
                            "expected a signing secret of 16 to 256 characters");
                }
                break;
            case "log":
                if (a.message() != null && a.message().length() > 500) {
                    throw new RuleSyntaxException(field + ".message", 500, "expected a message of at most 500 characters");
                }
                break;
            case "derive":
                if (a.key() == null || !KEY.matcher(a.key()).matches()) {
                    throw new RuleSyntaxException(field + ".key", 0, "expected a telemetry key for the derived value");
                }
                expr = checkedWindows(field + ".expression", expression(field + ".expression", a.expression(), firstSlot));
                break;
            default:
                throw new IllegalStateException(a.type());
        }
        return new CompiledRule.CompiledAction(a, on.equals("clear"), expr, expr == null ? List.of() : expr.windows());
    }

    private static void checkUrl(String field, String url) {
        if (url == null) {
            throw new RuleSyntaxException(field, 0, "expected an http or https URL");
        }
        try {
            URI u = new URI(url);
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || u.getHost() == null || url.length() > 2000) {
                throw new RuleSyntaxException(field, 0, "expected an http or https URL with a host");
            }
        } catch (java.net.URISyntaxException e) {
            throw new RuleSyntaxException(field, Math.max(0, e.getIndex()), "expected a URL: " + e.getReason());
        }
    }

    /** {@code "3s"}, {@code "500ms"}, {@code "2m"}, {@code "1h"}, {@code "1d"} or ISO-8601 ({@code "PT3S"}); 0 when null. */
    public static long duration(String field, String text, Duration max) {
        if (text == null) {
            return 0;
        }
        long ms;
        Matcher m = DURATION.matcher(text.trim());
        if (m.matches()) {
            double n = Double.parseDouble(m.group(1));
            long unit = switch (m.group(2)) {
                case "ms" -> 1L;
                case "s" -> 1000L;
                case "m" -> 60_000L;
                case "h" -> 3_600_000L;
                default -> 86_400_000L;
            };
            ms = (long) (n * unit);
        } else {
            try {
                ms = Duration.parse(text.trim()).toMillis();
            } catch (DateTimeParseException e) {
                throw new RuleSyntaxException(field, e.getErrorIndex(),
                        "expected a duration such as 3s, 500ms, 5m, 1h or PT3S but found '" + text + "'");
            }
        }
        if (ms <= 0) {
            throw new RuleSyntaxException(field, 0, "expected a duration longer than zero");
        }
        if (ms > max.toMillis()) {
            throw new RuleSyntaxException(field, 0, "expected a duration of at most " + max);
        }
        return ms;
    }
}

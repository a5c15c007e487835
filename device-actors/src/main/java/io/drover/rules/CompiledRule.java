package io.drover.rules;

import java.util.List;
import java.util.Optional;

/**
 * A checked rule of one version, ready to evaluate ({@link RuleCompiler} makes them). Immutable; shared by the
 * live engine and the backtest.
 *
 * @param windows every window aggregate of the rule, indexed by {@link Expr.Windowed#slot()}
 * @param needsFacts the rule reads the device's type, labels, attributes or shadow (its trigger or expressions)
 */
public record CompiledRule(
        String id,
        int version,
        RuleDefinition definition,
        ExprParser.Parsed condition,
        ExprParser.Parsed clearCondition,
        long holdMillis,
        long noDataMillis,
        List<Expr.Windowed> windows,
        List<CompiledAction> actions,
        boolean needsFacts) {

    /** @param onClear runs on the clear transition instead of the raise */
    public record CompiledAction(RuleDefinition.Action action, boolean onClear, ExprParser.Parsed expression,
            List<Expr.Windowed> windows) {}

    public boolean absence() {
        return noDataMillis > 0;
    }

    public boolean enabled() {
        return definition.isEnabled();
    }

    /** Whether the rule watches this device (its id, type and labels). */
    public boolean watches(String deviceId, String type, List<String> labels) {
        RuleDefinition.Trigger t = definition.trigger();
        if (t == null) {
            return true;
        }
        if (t.deviceIds() != null && !t.deviceIds().isEmpty() && !t.deviceIds().contains(deviceId)) {
            return false;
        }
        if (t.type() != null && !t.type().equals(type)) {
            return false;
        }
        return t.labels() == null || labels != null && labels.containsAll(t.labels());
    }

    /** Decided by the device id alone (no type/label conditions): the edge can filter without the twin. */
    public boolean watchesById(String deviceId) {
        RuleDefinition.Trigger t = definition.trigger();
        return t == null || t.deviceIds() == null || t.deviceIds().isEmpty() || t.deviceIds().contains(deviceId);
    }

    public Optional<RuleDefinition.Action> alarm() {
        return actions.stream().map(CompiledAction::action).filter(a -> a.type().equals("alarm")).findFirst();
    }
}

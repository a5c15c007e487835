package io.drover.rules;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * A rule as its author wrote it: the body of {@code POST /api/v1/rules}, and (persisted in the rule set's
 * journal, so a public API) every version of it. {@link RuleCompiler} checks it and turns it into a
 * {@link CompiledRule}; nothing here is trusted before that.
 *
 * @param trigger which devices of the tenant the rule watches; null = all of them
 * @param condition raises while it holds (after {@code for}); null only for {@code noDataFor} and derive-only rules
 * @param clearCondition when set, the alarm clears only when it holds (hysteresis), not when the condition stops
 * @param holdFor how long the condition must hold continuously ({@code "3s"}); null = at once
 * @param noDataFor an absence rule: raises when the device sent nothing for this long, clears on the next message
 * @param enabled null = true
 */
public record RuleDefinition(
        String name,
        String description,
        Trigger trigger,
        String condition,
        String clearCondition,
        @JsonProperty("for") String holdFor,
        String noDataFor,
        List<Action> actions,
        Boolean enabled) implements RulesSerializable {

    /** All the named parts must match: one of the ids, the type, every label. */
    public record Trigger(List<String> deviceIds, String type, List<String> labels) implements RulesSerializable {}

    /**
     * One action; which fields count depends on {@code type}: {@code alarm} (alarmType, severity, details),
     * {@code command} (name, params, persistent), {@code desired} (values), {@code publish} (payload),
     * {@code webhook} (url, secret), {@code log} (message), {@code derive} (key, expression).
     *
     * @param on {@code raise} (default) or {@code clear}: which transition runs it; ignored for alarm and derive
     */
    public record Action(
            String type,
            String on,
            String alarmType,
            String severity,
            ObjectNode details,
            String name,
            ObjectNode params,
            Boolean persistent,
            ObjectNode values,
            ObjectNode payload,
            String url,
            String secret,
            String message,
            String key,
            String expression) implements RulesSerializable {

        public static Action alarm(String alarmType, String severity) {
            return new Action("alarm", null, alarmType, severity, null, null, null, null, null, null, null, null, null,
                    null, null);
        }

        public static Action webhook(String url, String secret, String on) {
            return new Action("webhook", on, null, null, null, null, null, null, null, null, url, secret, null, null, null);
        }

        public static Action derive(String key, String expression) {
            return new Action("derive", null, null, null, null, null, null, null, null, null, null, null, null, key,
                    expression);
        }

        public static Action log(String message, String on) {
            return new Action("log", on, null, null, null, null, null, null, null, null, null, null, message, null, null);
        }

        public static Action command(String name, ObjectNode params, String on) {
            return new Action("command", on, null, null, null, name, params, null, null, null, null, null, null, null,
                    null);
        }

        public static Action desired(ObjectNode values, String on) {
            return new Action("desired", on, null, null, null, null, null, null, values, null, null, null, null, null,
                    null);
        }
    }

    public boolean isEnabled() {
        return enabled == null || enabled;
    }

    public RuleDefinition withEnabled(boolean on) {
        return new RuleDefinition(name, description, trigger, condition, clearCondition, holdFor, noDataFor, actions, on);
    }

    /** A simple rule: raise an alarm of {@code alarmType} while {@code condition} holds for {@code holdFor}. */
    public static RuleDefinition alarmRule(String name, Trigger trigger, String condition, String clearCondition,
            String holdFor, String alarmType, String severity) {
        return new RuleDefinition(name, null, trigger, condition, clearCondition, holdFor, null,
                List.of(Action.alarm(alarmType, severity)), null);
    }
}

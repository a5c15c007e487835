package io.drover.http;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.drover.persistence.RuleErrorStore;
import io.drover.rules.Alarm;
import io.drover.rules.RuleDefinition;
import io.drover.rules.RuleSet;
import java.time.Instant;
import java.util.List;

/** Bodies of the rules and alarms API, apart from the rule set's and alarms' persisted types (small mappers here). */
public final class RuleDtos {

    private RuleDtos() {}

    public record TriggerDto(List<String> deviceIds, String type, List<String> labels) {

        RuleDefinition.Trigger toDomain() {
            return new RuleDefinition.Trigger(deviceIds, type, labels);
        }

        static TriggerDto of(RuleDefinition.Trigger t) {
            return t == null ? null : new TriggerDto(t.deviceIds(), t.type(), t.labels());
        }
    }

    public record ActionDto(String type, String on, String alarmType, String severity, ObjectNode details, String name,
            ObjectNode params, Boolean persistent, ObjectNode values, ObjectNode payload, String url, String secret,
            String message, String key, String expression) {

        RuleDefinition.Action toDomain() {
            return new RuleDefinition.Action(type, on, alarmType, severity, details, name, params, persistent, values,
                    payload, url, secret, message, key, expression);
        }

        /** The webhook secret never leaves the API again. */
        static ActionDto of(RuleDefinition.Action a) {
            return new ActionDto(a.type(), a.on(), a.alarmType(), a.severity(), a.details(), a.name(), a.params(),
                    a.persistent(), a.values(), a.payload(), a.url(), a.secret() == null ? null : "********", a.message(),
                    a.key(), a.expression());
        }
    }

    /** The body of POST/PUT /api/v1/rules (and the {@code rule} of a backtest). {@code id} only on create. */
    public record RuleBody(String id, String name, String description, TriggerDto trigger, String condition,
            String clearCondition, @JsonProperty("for") String holdFor, String noDataFor, List<ActionDto> actions,
            Boolean enabled) {

        RuleDefinition toDomain() {
            return new RuleDefinition(name, description, trigger == null ? null : trigger.toDomain(), condition,
                    clearCondition, holdFor, noDataFor, actions == null ? null
                            : actions.stream().map(a -> a == null ? null : a.toDomain()).toList(), enabled);
        }
    }

    public record RuleDto(String id, int version, String name, String description, TriggerDto trigger, String condition,
            String clearCondition, @JsonProperty("for") String holdFor, String noDataFor, List<ActionDto> actions,
            boolean enabled, Instant createdAt, Instant updatedAt, String updatedBy) {

        static RuleDto of(RuleSet.RuleView v) {
            return of(v.id(), v.version(), v.definition(), v.createdAt(), v.updatedAt(), v.updatedBy());
        }

        static RuleDto of(String id, int version, RuleDefinition d, Instant createdAt, Instant updatedAt, String by) {
            return new RuleDto(id, version, d.name(), d.description(), TriggerDto.of(d.trigger()), d.condition(),
                    d.clearCondition(), d.holdFor(), d.noDataFor(),
                    d.actions() == null ? List.of() : d.actions().stream().map(ActionDto::of).toList(), d.isEnabled(),
                    createdAt, updatedAt, by);
        }
    }

    public record RuleList(List<RuleDto> items) {}

    public record VersionDto(int version, String change, Instant at, String by, RuleDto rule) {}

    public record VersionList(String ruleId, List<VersionDto> items) {}

    public record RuleErrorDto(String id, String ruleId, int ruleVersion, Instant at, String deviceId, String action,
            com.fasterxml.jackson.databind.JsonNode input, List<String> failures, String deadLetter) {

        static RuleErrorDto of(RuleErrorStore.RuleError e) {
            com.fasterxml.jackson.databind.JsonNode input;
            try {
                input = ApiJson.MAPPER.readTree(e.input());
            } catch (Exception x) {
                input = ApiJson.MAPPER.getNodeFactory().textNode(e.input());
            }
            return new RuleErrorDto(e.errorId(), e.ruleId(), e.ruleVersion(), e.at(), e.deviceId(), e.action(), input,
                    e.failures(), e.deadLetter());
        }
    }

    public record RuleErrorList(List<RuleErrorDto> items) {}

    public record TemplateDto(String id, String description, RuleBody rule) {}

    public record TemplateList(List<TemplateDto> items) {}

    /** POST /api/v1/rules/test. */
    public record BacktestBody(RuleBody rule, Instant from, Instant to, List<String> deviceIds) {}

    public record BacktestAlarm(String deviceId, String type, String severity, Instant since, Instant raisedAt,
            Instant clearedAt, Object values) {}

    public record BacktestAction(String deviceId, String type, String on, Instant at, Object values) {}

    public record BacktestResult(List<BacktestAlarm> alarms, List<BacktestAction> actions, int devices, int messages,
            boolean truncated) {}

    public record AlarmDto(String id, String type, String deviceId, String severity, String status, boolean acknowledged,
            long occurrences, Instant firstSeenAt, Instant lastSeenAt, Instant clearedAt, String clearedBy,
            Instant ackedAt, String ackedBy, String ruleId, Integer ruleVersion, ObjectNode details, boolean flapping,
            long flaps) {

        static AlarmDto of(Alarm.AlarmView a) {
            return new AlarmDto(a.id(), a.type(), a.deviceId(), a.severity() == null ? null : a.severity().wire(),
                    a.status().name().toLowerCase(), a.acknowledged(), a.occurrences(), a.firstSeenAt(), a.lastSeenAt(),
                    a.clearedAt(), a.clearedBy(), a.ackedAt(), a.ackedBy(), a.ruleId(), a.ruleVersion(), a.details(),
                    a.flapping(), a.flaps());
        }
    }

    public record AlarmPage(List<AlarmDto> items, String nextCursor) {}
}

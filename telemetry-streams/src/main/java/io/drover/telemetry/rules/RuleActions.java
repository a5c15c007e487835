package io.drover.telemetry.rules;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.persistence.RuleErrorStore;
import io.drover.persistence.TelemetrySample;
import io.drover.rules.Alarm;
import io.drover.rules.CompiledRule;
import io.drover.rules.RuleDefinition;
import io.drover.rules.RuleEffects;
import io.drover.rules.RuleRuntime;
import io.drover.rules.Severity;
import io.drover.shard.AlarmClient;
import io.drover.shard.DeviceClient;
import io.drover.shard.Retries;
import io.drover.telemetry.TelemetryHub;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's {@link RuleEffects}: raises and clears alarms, sends commands and desired values to the twin, hands
 * webhooks to the per-tenant queues, logs, and writes derived values through the hub (the normal durable path).
 * Alarm, command and desired actions are retried; an action that still fails becomes one rule error (rule id and
 * version, the input, the failures) in the error store and a metric. Nothing here blocks the caller.
 */
public final class RuleActions implements RuleEffects {

    private static final Logger log = LoggerFactory.getLogger(RuleActions.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final RulesEngineSettings settings;
    private final AlarmClient alarms;
    private final DeviceClient devices;
    private final TelemetryHub hub;
    private final RuleErrorStore errors;
    private final Webhooks webhooks;
    private final Counter actions;

    public RuleActions(ActorSystem<?> system, RulesEngineSettings settings, AlarmClient alarms, DeviceClient devices,
            TelemetryHub hub, RuleErrorStore errors, PrometheusRegistry registry) {
        this.settings = settings;
        this.alarms = alarms;
        this.devices = devices;
        this.hub = hub;
        this.errors = errors;
        this.webhooks = new Webhooks(system, settings.webhook(), registry);
        this.actions = Counter.builder().name("drover_rules_actions_total")
                .help("Rule actions by type and outcome (ok, failed: recorded as a rule error)")
                .labelNames("type", "outcome").register(registry);
    }

    @Override
    public void run(DeviceKey device, CompiledRule rule, RuleRuntime.Output output) {
        if (output instanceof RuleRuntime.Derived d) {
            derive(device, rule, d);
            return;
        }
        RuleRuntime.Transition t = (RuleRuntime.Transition) output;
        boolean raised = t.kind() == RuleRuntime.Kind.RAISED;
        if (!raised && t.kind() != RuleRuntime.Kind.CLEARED) {
            return; // pending and reset: nothing to do yet
        }
        for (CompiledRule.CompiledAction a : rule.actions()) {
            RuleDefinition.Action action = a.action();
            switch (action.type()) {
                case "alarm" -> track(device, rule, t, action, raised ? raiseAlarm(device, rule, action, t.since(),
                        t.at(), t.values()) : clearAlarm(device, rule, action, t.at()));
                case "derive" -> { }
                default -> {
                    if (a.onClear() != raised) {
                        execute(device, rule, t, action);
                    }
                }
            }
        }
    }

    @Override
    public void reconcile(DeviceKey device, CompiledRule rule, long since) {
        rule.alarm().ifPresent(a -> {
            RuleRuntime.Transition t = new RuleRuntime.Transition(rule.id(), rule.version(), RuleRuntime.Kind.RAISED,
                    since, since, Map.of());
            track(device, rule, t, a, raiseAlarm(device, rule, a, since, since, Map.of()));
        });
    }

    @Override
    public CompletionStage<RuleRuntime.Facts> facts(DeviceKey device) {
        return devices.get(device).thenCombine(devices.getShadow(device), (d, s) -> {
            if (!(d instanceof Device.DeviceDetails details)) {
                return RuleRuntime.Facts.of(device.deviceId()); // unknown device: rules see no facts
            }
            Device.DeviceView v = details.device();
            ObjectNode reported = s instanceof Device.ShadowDetails sd ? sd.shadow().reported() : null;
            ObjectNode desired = s instanceof Device.ShadowDetails sd ? sd.shadow().desired() : null;
            return new RuleRuntime.Facts(device.deviceId(), v.name(), v.type(), v.labels(), v.attributes(), reported,
                    desired);
        });
    }

    private CompletionStage<?> raiseAlarm(DeviceKey device, CompiledRule rule, RuleDefinition.Action a, long since,
            long at, Map<String, Object> values) {
        ObjectNode details = a.details() != null ? a.details().deepCopy() : JSON.createObjectNode();
        details.put("rule", rule.definition().name());
        details.put("since", Instant.ofEpochMilli(since).toString());
        if (!values.isEmpty()) {
            details.set("values", JSON.valueToTree(values));
        }
        Severity severity = a.severity() == null ? Severity.MAJOR : Severity.parse(a.severity());
        Alarm.Key key = new Alarm.Key(device.tenantId(), device.deviceId(), a.alarmType());
        return retried(() -> alarms.raise(key, RuleEffects.raiseKey(rule.id(), since), rule.id(), rule.version(), severity,
                details, Instant.ofEpochMilli(at)));
    }

    private CompletionStage<?> clearAlarm(DeviceKey device, CompiledRule rule, RuleDefinition.Action a, long at) {
        Alarm.Key key = new Alarm.Key(device.tenantId(), device.deviceId(), a.alarmType());
        return retried(() -> alarms.clear(key, "rule:" + rule.id(), null, Instant.ofEpochMilli(at))
                .exceptionally(err -> {
                    if (err instanceof AlarmClient.Rejected
                            || err.getCause() instanceof AlarmClient.Rejected) {
                        return null; // never raised (or superseded): nothing to clear
                    }
                    throw new java.util.concurrent.CompletionException(err);
                }));
    }

    private void execute(DeviceKey device, CompiledRule rule, RuleRuntime.Transition t, RuleDefinition.Action a) {
        switch (a.type()) {
            case "command" -> {
                String id = "rule-" + rule.id() + "-" + t.at();
                boolean persistent = a.persistent() == null || a.persistent();
                track(device, rule, t, a, retried(() -> devices.ask(device, r -> new Device.RequestCommand(id, a.name(),
                        a.params() != null ? a.params() : JSON.createObjectNode(), false, persistent,
                        settings.commandTtl(), r)).thenApply(RuleActions::accepted)));
            }
            case "desired" -> track(device, rule, t, a, retried(() -> devices.updateDesired(device, a.values(),
                    Optional.empty()).thenApply(RuleActions::accepted)));
            case "publish" -> {
                ObjectNode body = JSON.createObjectNode();
                body.put("ruleId", rule.id());
                body.put("ruleVersion", rule.version());
                body.put("event", t.kind() == RuleRuntime.Kind.RAISED ? "raised" : "cleared");
                body.put("at", Instant.ofEpochMilli(t.at()).toString());
                body.set("payload", a.payload());
                // not retried: the device is online now or the notification has no one to go to
                track(device, rule, t, a, devices.ask(device, r -> new Device.Notify(body, r))
                        .thenApply(RuleActions::accepted), 1);
            }
            case "webhook" -> webhook(device, rule, t, a);
            case "log" -> {
                log.info("Rule {} v{} ({}) {} for {}: {} {}", rule.id(), rule.version(), rule.definition().name(),
                        t.kind().name().toLowerCase(), device, a.message() == null ? "" : a.message(), t.values());
                actions.labelValues("log", "ok").inc();
            }
            default -> log.warn("Rule {} has an action of unknown type {}", rule.id(), a.type());
        }
    }

    private static Device.Reply accepted(Device.Reply r) {
        if (r instanceof Device.Rejected rej) {
            throw new IllegalStateException(rej.code().name().toLowerCase().replace('_', '-') + ": " + rej.message());
        }
        return r;
    }

    private void webhook(DeviceKey device, CompiledRule rule, RuleRuntime.Transition t, RuleDefinition.Action a) {
        String deliveryId = UUID.randomUUID().toString();
        ObjectNode body = JSON.createObjectNode();
        body.put("deliveryId", deliveryId);
        body.put("tenantId", device.tenantId());
        body.put("deviceId", device.deviceId());
        body.put("ruleId", rule.id());
        body.put("ruleVersion", rule.version());
        body.put("ruleName", rule.definition().name());
        body.put("event", t.kind() == RuleRuntime.Kind.RAISED ? "raised" : "cleared");
        body.put("at", Instant.ofEpochMilli(t.at()).toString());
        body.put("since", Instant.ofEpochMilli(t.since()).toString());
        body.set("values", JSON.valueToTree(t.values()));
        String text = body.toString();
        boolean queued = webhooks.offer(new Webhooks.Delivery(device.tenantId(), a.url(), a.secret(), deliveryId, text,
                failure -> failed(device, rule, t, a, List.of(failure), text)));
        if (!queued) {
            failed(device, rule, t, a, List.of("queue-full: the tenant's webhook queue holds "
                    + settings.webhook().queueSize() + " deliveries"), text);
        } else {
            actions.labelValues("webhook", "queued").inc();
        }
    }

    private void derive(DeviceKey device, CompiledRule rule, RuleRuntime.Derived d) {
        Instant ts = Instant.ofEpochMilli(d.ts());
        Instant now = Instant.now();
        Object v = d.value();
        TelemetrySample s = new TelemetrySample(device.tenantId(), device.deviceId(), d.key(), ts,
                v instanceof Double n ? n : null, v instanceof String str ? str : null, v instanceof Boolean b ? b : null,
                null, now);
        RuleDefinition.Action a = rule.actions().stream().map(CompiledRule.CompiledAction::action)
                .filter(x -> "derive".equals(x.type()) && d.key().equals(x.key())).findFirst().orElse(null);
        RuleRuntime.Transition t = new RuleRuntime.Transition(rule.id(), rule.version(), RuleRuntime.Kind.RAISED, d.ts(),
                d.ts(), Map.of(d.key(), v));
        track(device, rule, t, a, retried(() -> hub.submit(List.of(s), true)));
    }

    private <T> CompletionStage<T> retried(Supplier<CompletionStage<T>> attempt) {
        return Retries.retry(attempt, settings.actionAttempts(), settings.actionBackoff(),
                settings.actionBackoff().multipliedBy(8));
    }

    private void track(DeviceKey device, CompiledRule rule, RuleRuntime.Transition t, RuleDefinition.Action a,
            CompletionStage<?> done) {
        track(device, rule, t, a, done, settings.actionAttempts());
    }

    private void track(DeviceKey device, CompiledRule rule, RuleRuntime.Transition t, RuleDefinition.Action a,
            CompletionStage<?> done, int attempts) {
        String type = a == null ? "derive" : a.type();
        done.whenComplete((ok, err) -> {
            if (err == null) {
                actions.labelValues(type, "ok").inc();
            } else {
                Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                        ? err.getCause() : err;
                failed(device, rule, t, a, List.of(attempts == 1 ? cause.toString()
                        : attempts + " attempts, last: " + cause), null);
            }
        });
    }

    /** One rule error per failed action: counted, logged, stored (bounded by the store's TTL and reads). */
    private void failed(DeviceKey device, CompiledRule rule, RuleRuntime.Transition t, RuleDefinition.Action a,
            List<String> failures, String deadLetter) {
        String type = a == null ? "derive" : a.type();
        actions.labelValues(type, "failed").inc();
        ObjectNode input = JSON.createObjectNode();
        input.put("event", t.kind().name().toLowerCase());
        input.put("at", Instant.ofEpochMilli(t.at()).toString());
        input.set("values", JSON.valueToTree(t.values()));
        log.warn("Rule {} v{}: {} action for {} failed: {}", rule.id(), rule.version(), type, device, failures);
        errors.record(new RuleErrorStore.RuleError(device.tenantId(), rule.id(), rule.version(),
                        UUID.randomUUID().toString(), Instant.now(), device.deviceId(), type, input.toString(), failures,
                        deadLetter))
                .whenComplete((ok, err) -> {
                    if (err != null) {
                        log.error("Rule error of {} could not be stored: {}", rule.id(), err.toString());
                    }
                });
    }
}

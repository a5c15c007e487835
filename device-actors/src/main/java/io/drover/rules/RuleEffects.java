package io.drover.rules;

import io.drover.device.DeviceKey;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * What the rules of a device do in the world (alarms, commands, desired values, webhooks, logs, derived
 * telemetry). The owner of a device's rule state calls it after the transition is journaled; the implementation
 * (telemetry-streams) retries, queues per tenant with bounds, and turns each failed action into one rule error.
 * Never throws.
 */
public interface RuleEffects {

    /** The actions of one output of {@code rule} for {@code device}. */
    void run(DeviceKey device, CompiledRule rule, RuleRuntime.Output output);

    /** After the owner recovered: makes sure the alarm of an active rule is raised (idempotent by raise key). */
    void reconcile(DeviceKey device, CompiledRule rule, long since);

    /** The device's facts for rules that read them (type, labels, attributes, shadow). */
    CompletionStage<RuleRuntime.Facts> facts(DeviceKey device);

    /** The raise key of a rule's raise: the same raise gives the same key wherever it is computed. */
    static String raiseKey(String ruleId, long since) {
        return ruleId + "@" + since;
    }

    RuleEffects NONE = new RuleEffects() {
        @Override
        public void run(DeviceKey device, CompiledRule rule, RuleRuntime.Output output) {}

        @Override
        public void reconcile(DeviceKey device, CompiledRule rule, long since) {}

        @Override
        public CompletionStage<RuleRuntime.Facts> facts(DeviceKey device) {
            return CompletableFuture.completedFuture(RuleRuntime.Facts.of(device.deviceId()));
        }
    };
}

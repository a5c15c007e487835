package io.drover.telemetry.rules;

import io.drover.device.DeviceKey;
import io.drover.persistence.TelemetrySample;
import io.drover.persistence.TelemetryStore;
import io.drover.rules.CompiledRule;
import io.drover.rules.RuleBacktest;
import io.drover.rules.RuleCompiler;
import io.drover.rules.RuleEffects;
import io.drover.rules.RuleRuntime;
import io.drover.rules.RulesSettings;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The backtest: a rule run over stored telemetry of a time range, with the live engine's code ({@link RuleBacktest}).
 * Reads are bounded by the request: at most {@code maxDevices} devices and {@code maxSamples} samples per device (of
 * the keys the rule reads); a device with more is cut at that many and the result says so. No side effects.
 */
public final class Backtester {

    /** What one device's run gave: its outputs in time order and whether its history was cut short. */
    public record DeviceRun(String deviceId, List<RuleRuntime.Output> outputs, int messages, boolean truncated) {}

    private final TelemetryStore store;
    private final RulesSettings limits;
    private final RuleEffects facts;
    private final int maxSamples;

    public Backtester(TelemetryStore store, RulesSettings limits, RuleEffects facts, int maxSamples) {
        this.store = store;
        this.limits = limits;
        this.facts = facts;
        this.maxSamples = maxSamples;
    }

    public CompletionStage<List<DeviceRun>> run(String tenantId, CompiledRule rule, List<String> deviceIds, Instant from,
            Instant to) {
        List<CompletableFuture<DeviceRun>> runs = new ArrayList<>();
        CompletionStage<DeviceRun> previous = CompletableFuture.completedFuture(null);
        for (String id : deviceIds) {
            // one device after the other: a backtest is a read of bounded size, not a burst on Cassandra
            CompletableFuture<DeviceRun> r = previous.thenCompose(x -> device(tenantId, rule, id, from, to))
                    .toCompletableFuture();
            runs.add(r);
            previous = r;
        }
        return previous.thenApply(x -> runs.stream().map(CompletableFuture::join).toList());
    }

    private CompletionStage<DeviceRun> device(String tenantId, CompiledRule rule, String deviceId, Instant from,
            Instant to) {
        DeviceKey key = new DeviceKey(tenantId, deviceId);
        Set<String> wanted = RuleCompiler.keysRead(rule);
        CompletionStage<RuleRuntime.Facts> f = rule.needsFacts() ? facts.facts(key)
                : CompletableFuture.completedFuture(RuleRuntime.Facts.of(deviceId));
        return f.thenCompose(deviceFacts -> {
            if (rule.needsFacts() && !rule.watches(deviceId, deviceFacts.type(), deviceFacts.labels())) {
                return CompletableFuture.completedFuture(new DeviceRun(deviceId, List.of(), 0, false));
            }
            return store.keys(tenantId, deviceId).thenCompose(keys -> {
                List<String> read = keys.stream().filter(k -> wanted.isEmpty() || wanted.contains(k)).toList();
                if (read.isEmpty()) {
                    return CompletableFuture.completedFuture(
                            new DeviceRun(deviceId, RuleBacktest.run(limits, List.of(rule), deviceFacts, List.of(),
                                    to.toEpochMilli()), 0, false));
                }
                return store.readRaw(new TelemetryStore.RawQuery(tenantId, deviceId, read, from, to, true, maxSamples,
                        Optional.empty())).thenApply(page -> {
                    List<RuleBacktest.Message> messages = messages(page.series());
                    return new DeviceRun(deviceId, RuleBacktest.run(limits, List.of(rule), deviceFacts, messages,
                            to.toEpochMilli()), messages.size(), page.nextCursor().isPresent());
                });
            });
        });
    }

    /** Samples of all keys merged into messages by time (as the device sent them, one message per timestamp). */
    static List<RuleBacktest.Message> messages(Map<String, List<TelemetrySample>> series) {
        TreeMap<Long, Map<String, Object>> byTs = new TreeMap<>();
        series.values().forEach(list -> list.forEach(s -> {
            Object v = s.number() != null ? s.number() : s.text() != null ? s.text() : s.bool();
            if (v != null) {
                byTs.computeIfAbsent(s.ts().toEpochMilli(), k -> new HashMap<>()).put(s.key(), v);
            }
        }));
        List<RuleBacktest.Message> out = new ArrayList<>(byTs.size());
        byTs.forEach((ts, values) -> out.add(new RuleBacktest.Message(ts, Map.copyOf(values))));
        return out;
    }
}

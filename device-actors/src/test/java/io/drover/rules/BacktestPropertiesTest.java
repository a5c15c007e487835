package io.drover.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Backtest = live: random in-order histories, fed to a live runtime with clock ticks at random moments and
 * every message possibly delivered twice (the ingest is at least once), give the same transitions and derived
 * values as the backtest over the stored history (each message once, no ticks but the end of the range).
 */
class BacktestPropertiesTest {

    private static final RuleCompiler C = new RuleCompiler(RulesSettings.defaults());

    private static List<CompiledRule> rules() {
        return List.of(
                C.compile("hold", 1, RuleDefinition.alarmRule("h", null, "t > 50", null, "3s", "hot", null)),
                C.compile("hyst", 1, RuleDefinition.alarmRule("y", null, "t > 60", "t < 40", null, "band", null)),
                C.compile("avg", 1, RuleDefinition.alarmRule("a", null, "avg(t, 10s) > 45 && count(t > 70, 20s) >= 2",
                        null, "2s", "trend", null)),
                C.compile("tumble", 1, RuleDefinition.alarmRule("w", null, "max(t, 5s, tumbling) - min(t, 5s, tumbling) > 30",
                        null, null, "swing", null)),
                C.compile("rate", 1, RuleDefinition.alarmRule("r", null, "abs(rate(t)) > 10", null, null, "jump", null)),
                C.compile("quiet", 1, new RuleDefinition("q", null, null, null, null, null, "4s",
                        List.of(RuleDefinition.Action.alarm("inactive", null)), null)),
                C.compile("derive", 1, new RuleDefinition("d", null, null, "exists(t)", null, null, null,
                        List.of(RuleDefinition.Action.derive("t2", "t * 2")), null)));
    }

    @Property(tries = 300)
    void liveWithTicksAndRepeatsEqualsBacktest(@ForAll long seed) {
        Random r = new Random(seed);
        List<RuleBacktest.Message> history = new ArrayList<>();
        long ts = r.nextInt(1000);
        for (int i = 0, n = 5 + r.nextInt(60); i < n; i++) {
            ts += r.nextInt(10) == 0 ? 2000 + r.nextInt(8000) : 1 + r.nextInt(1500);
            Map<String, Object> values = new HashMap<>();
            if (r.nextInt(8) != 0) {
                values.put("t", (double) r.nextInt(100));
            } else {
                values.put("other", 1.0);
            }
            history.add(new RuleBacktest.Message(ts, Map.copyOf(values)));
        }
        long to = ts + r.nextInt(10_000);
        List<CompiledRule> rules = rules();
        RuleRuntime.Facts facts = RuleRuntime.Facts.of("d");

        List<RuleRuntime.Output> backtest = RuleBacktest.run(RulesSettings.defaults(), rules, facts, history, to);

        RuleRuntime live = new RuleRuntime(RulesSettings.defaults());
        List<RuleRuntime.Output> out = new ArrayList<>();
        long clock = Long.MIN_VALUE;
        for (RuleBacktest.Message m : history) {
            if (clock != Long.MIN_VALUE && r.nextBoolean()) {
                long tick = clock + (long) (r.nextDouble() * (m.ts() - clock)); // a timer between two messages
                out.addAll(live.advance(rules, tick));
            }
            out.addAll(live.observe(rules, facts, m.ts(), m.values(), false));
            if (r.nextInt(4) == 0) {
                out.addAll(live.observe(rules, facts, m.ts(), m.values(), false)); // delivered again
            }
            clock = m.ts();
        }
        out.addAll(live.advance(rules, to));
        assertEquals(backtest, out, "seed " + seed);
    }
}

package io.drover.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** Every operator's edges: window boundaries, gaps, out-of-order and re-delivered messages, deadlines. */
class RuleRuntimeTest {

    static final RuleCompiler COMPILER = new RuleCompiler(RulesSettings.defaults());
    static final RuleRuntime.Facts FACTS = RuleRuntime.Facts.of("d1");

    static CompiledRule rule(String condition, String clear, String holdFor) {
        return COMPILER.compile("r1", 1,
                RuleDefinition.alarmRule("t", null, condition, clear, holdFor, "overheat", "major"));
    }

    /** Feeds messages and records the transitions as "KIND@ts". */
    static final class Run {
        final RuleRuntime rt = new RuleRuntime(RulesSettings.defaults());
        final List<CompiledRule> rules;
        final List<String> seen = new ArrayList<>();

        Run(CompiledRule... rules) {
            this.rules = List.of(rules);
        }

        Run msg(long ts, Object... kv) {
            Map<String, Object> values = new java.util.HashMap<>();
            for (int i = 0; i < kv.length; i += 2) {
                Object v = kv[i + 1];
                values.put((String) kv[i], v instanceof Integer n ? (Object) n.doubleValue() : v);
            }
            record(rt.observe(rules, FACTS, ts, values, false));
            return this;
        }

        Run tick(long now) {
            record(rt.advance(rules, now));
            return this;
        }

        private void record(List<RuleRuntime.Output> out) {
            for (RuleRuntime.Output o : out) {
                if (o instanceof RuleRuntime.Transition t) {
                    seen.add(t.kind() + "@" + t.at());
                } else if (o instanceof RuleRuntime.Derived d) {
                    seen.add("DERIVED " + d.key() + "=" + d.value() + "@" + d.ts());
                }
            }
        }

        List<String> raisedAndCleared() {
            return seen.stream().filter(s -> s.startsWith("RAISED") || s.startsWith("CLEARED")).toList();
        }
    }

    @Test
    void raisesAtOnceWithoutForAndClearsWhenTheConditionStops() {
        Run r = new Run(rule("temperature > 80", null, null))
                .msg(1000, "temperature", 70).msg(2000, "temperature", 81).msg(3000, "temperature", 90)
                .msg(4000, "humidity", 10) // does not carry the key: no change
                .msg(5000, "temperature", 80);
        assertEquals(List.of("RAISED@2000", "CLEARED@5000"), r.seen);
    }

    @Test
    void forNeedsTheConditionToHoldContinuouslyAndFiresAtTheDeadline() {
        CompiledRule rule = rule("temperature > 80", null, "3s");
        Run r = new Run(rule).msg(0, "temperature", 81).msg(1000, "temperature", 82).msg(2000, "temperature", 79)
                .msg(2500, "temperature", 85).tick(5000);
        assertEquals(List.of("PENDING@0", "RESET@2000", "PENDING@2500"), r.seen, "2.5 s after the restart: not yet");
        assertEquals(OptionalLong.of(5500), r.rt.nextDeadline(r.rules));
        r.tick(5499).tick(5500).tick(9000);
        assertEquals(List.of("PENDING@0", "RESET@2000", "PENDING@2500", "RAISED@5500"), r.seen, "exactly once, at 2.5 s + 3 s");
        r.msg(9500, "temperature", 20);
        assertEquals("CLEARED@9500", r.seen.get(r.seen.size() - 1));
    }

    @Test
    void aMessagePastTheDeadlineRaisesFirstEvenWithoutATick() {
        Run r = new Run(rule("temperature > 80", null, "3s")).msg(0, "temperature", 81).msg(4000, "temperature", 10);
        assertEquals(List.of("PENDING@0", "RAISED@3000", "CLEARED@4000"), r.seen);
    }

    @Test
    void hysteresisRaisesAboveAndClearsOnlyBelowTheClearCondition() {
        Run r = new Run(rule("temperature > 80", "temperature < 75", null))
                .msg(1, "temperature", 85).msg(2, "temperature", 79).msg(3, "temperature", 76).msg(4, "temperature", 81)
                .msg(5, "temperature", 74).msg(6, "temperature", 79);
        assertEquals(List.of("RAISED@1", "CLEARED@5"), r.seen);
    }

    @Test
    void lateAndRepeatedMessagesNeverMoveARule() {
        Run r = new Run(rule("temperature > 80", null, null))
                .msg(2000, "temperature", 90).msg(2000, "temperature", 90) // delivered again
                .msg(1000, "temperature", 10) // late: older than the newest
                .msg(3000, "temperature", 91);
        assertEquals(List.of("RAISED@2000"), r.seen);
    }

    @Test
    void slidingWindowBoundariesAreHalfOpen() {
        // avg over (ts − 60 s, ts]: a message exactly 60 s older is out
        Run r = new Run(rule("avg(t, 1m) > 70", null, null))
                .msg(0, "t", 100).msg(30_000, "t", 50) // avg 75 → raised at 30 s? 100 and 50: avg 75
                .msg(60_000, "t", 40); // window (0, 60 s]: 50, 40 → 45 → cleared
        assertEquals(List.of("RAISED@0", "CLEARED@60000"), r.seen);
    }

    @Test
    void windowsIgnoreDuplicatesAndTakeLateMessagesInByTheirTime() {
        CompiledRule sum = rule("sum(t, 1m) >= 30", null, null);
        Run dup = new Run(sum).msg(1000, "t", 10).msg(1000, "t", 10).msg(1000, "t", 10).msg(2000, "t", 10);
        assertEquals(List.of(), dup.seen, "10 + 10: the repeats of the 1 s message count once");
        Run late = new Run(sum).msg(1000, "t", 10).msg(3000, "t", 10).msg(2000, "t", 10).msg(4000, "t", 0);
        assertEquals(List.of("RAISED@4000"), late.seen, "the late 2 s message counts at the next message");
    }

    @Test
    void countWithinAWindowIsNOccurrences() {
        Run r = new Run(rule("count(t > 80, 1m) >= 3", null, null))
                .msg(0, "t", 90).msg(10_000, "t", 10).msg(20_000, "t", 95).msg(30_000, "t", 10).msg(40_000, "t", 85);
        assertEquals(List.of("RAISED@40000"), r.seen, "count counts the messages where the sub-condition holds");
        r.msg(61_000, "t", 10); // 0 s is out of the window: 20 s and 40 s remain
        assertEquals(List.of("RAISED@40000", "CLEARED@61000"), r.seen);
    }

    @Test
    void tumblingWindowsShowTheLastCompleteWindow() {
        Run r = new Run(rule("max(t, 1m, tumbling) > 50", null, null))
                .msg(10_000, "t", 60) // minute 0 is not complete: the last complete minute is empty → unknown
                .msg(59_999, "t", 10)
                .msg(60_000, "t", 0) // minute 0 complete: max 60
                .msg(119_000, "t", 0)
                .msg(120_000, "t", 0); // minute 1: max 0
        assertEquals(List.of("RAISED@60000", "CLEARED@120000"), r.seen);
    }

    @Test
    void minMaxAndGapsInWindows() {
        Run r = new Run(rule("min(t, 10s) > 5 && max(t, 10s) < 20", null, null))
                .msg(0, "t", 6).msg(5000, "t", 19).msg(9000, "t", 21).msg(30_000, "t", 7);
        assertEquals(List.of("RAISED@0", "CLEARED@9000", "RAISED@30000"), r.seen, "after a gap the window holds only 7");
    }

    @Test
    void rateOfChangeUsesThePreviousValueAndItsTime() {
        Run r = new Run(rule("rate(t) > 1", null, null))
                .msg(0, "t", 10).msg(10_000, "t", 15).msg(20_000, "t", 40).msg(30_000, "t", 41);
        assertEquals(List.of("RAISED@20000", "CLEARED@30000"), r.seen, "0.5/s, then 2.5/s, then 0.1/s");
        Run prev = new Run(rule("t - prev.t >= 10", null, null)).msg(0, "t", 1).msg(1, "h", 3).msg(2, "t", 11);
        assertEquals(List.of("RAISED@2"), prev.seen, "prev is the key's previous value, across messages without it");
    }

    @Test
    void absenceRaisesWhenTheDeviceIsQuietAndClearsOnTheNextMessage() {
        CompiledRule quiet = COMPILER.compile("q", 1, new RuleDefinition("quiet", null, null, null, null, null, "10s",
                List.of(RuleDefinition.Action.alarm("inactive", "warning")), null));
        Run r = new Run(quiet).tick(50_000).msg(1000, "t", 1).tick(10_999).msg(5000, "t", 1).tick(14_999).tick(15_000)
                .tick(20_000).msg(21_000, "t", 2);
        assertEquals(List.of("RAISED@15000", "CLEARED@21000"), r.seen, "nothing before the first message; 10 s after the last");
    }

    @Test
    void deriveWritesANewKeyForEveryMessageButNotForDerivedOnes() {
        CompiledRule f = COMPILER.compile("f", 1, new RuleDefinition("fahrenheit", null, null, null, null, null, null,
                List.of(RuleDefinition.Action.derive("tF", "round(c * 1.8 + 32, 1)")), null));
        Run r = new Run(f).msg(1000, "c", 20).msg(2000, "other", 1);
        assertEquals(List.of("DERIVED tF=68.0@1000"), r.seen, "no value when the input is missing");
        assertTrue(r.rt.observe(r.rules, FACTS, 3000, Map.of("c", 10.0), true).isEmpty(), "derived input: no loop");
    }

    @Test
    void aNewVersionDropsAPendingWaitButKeepsAnActiveAlarm() {
        CompiledRule v1 = rule("t > 80", null, "10s");
        CompiledRule v2 = COMPILER.compile("r1", 2, RuleDefinition.alarmRule("t", null, "t > 90", null, "10s", "o", null));
        RuleRuntime rt = new RuleRuntime(RulesSettings.defaults());
        rt.observe(List.of(v1), FACTS, 0, Map.of("t", 85.0), false);
        List<RuleRuntime.Output> out = rt.observe(List.of(v2), FACTS, 1000, Map.of("t", 85.0), false);
        assertEquals(RuleRuntime.Kind.RESET, ((RuleRuntime.Transition) out.get(0)).kind());
        assertEquals(RuleRuntime.Status.INACTIVE, rt.statuses().get("r1").status());
    }

    @Test
    void restoredPendingStatusFiresAtItsOriginalDeadline() {
        CompiledRule rule = rule("t > 80", null, "10s");
        RuleRuntime before = new RuleRuntime(RulesSettings.defaults());
        before.observe(List.of(rule), FACTS, 1000, Map.of("t", 85.0), false);
        RuleRuntime after = new RuleRuntime(RulesSettings.defaults()); // a survivor after a kill -9
        after.restore(before.statuses(), before.lastEvaluated());
        assertTrue(after.advance(List.of(rule), 10_999).isEmpty());
        List<RuleRuntime.Output> out = after.advance(List.of(rule), 11_000);
        assertEquals(List.of(new RuleRuntime.Transition("r1", 1, RuleRuntime.Kind.RAISED, 11_000, 1000, Map.of())), out);
    }

    @Test
    void windowsAreBoundedBySamples() {
        RulesSettings small = RulesSettings.defaults().withLimits(10, 5, 3);
        RuleRuntime rt = new RuleRuntime(small);
        CompiledRule rule = new RuleCompiler(small).compile("c", 1,
                RuleDefinition.alarmRule("c", null, "count(t, 1h) >= 4", null, null, "many", null));
        for (int i = 1; i <= 10; i++) {
            assertTrue(rt.observe(List.of(rule), FACTS, i, Map.of("t", 1.0), false).isEmpty(),
                    "the window keeps 3 samples, so a count of 4 is never reached");
        }
    }
}

package io.drover.rules;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A rule run over stored history: the same {@link RuleRuntime} the live owner uses, fed the device's stored
 * messages in time order and then moved to the end of the range. No side effects: the outputs are returned.
 * Because the runtime fires deadlines at their exact times whoever moves the clock, this gives what the live
 * engine gave for the same messages (the property test shows it).
 */
public final class RuleBacktest {

    /** One stored message: its time and its values (numbers as Double, text, booleans). */
    public record Message(long ts, Map<String, Object> values) {}

    private RuleBacktest() {}

    public static List<RuleRuntime.Output> run(RulesSettings limits, List<CompiledRule> rules, RuleRuntime.Facts facts,
            Iterable<Message> messages, long to) {
        RuleRuntime rt = new RuleRuntime(limits);
        List<RuleRuntime.Output> out = new ArrayList<>();
        for (Message m : messages) {
            if (m.ts() > to) {
                break;
            }
            out.addAll(rt.observe(rules, facts, m.ts(), m.values(), false));
        }
        out.addAll(rt.advance(rules, to));
        return out;
    }
}
